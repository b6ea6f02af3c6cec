"""A replica's in-memory view of the signing keys: the prepared signer and the published JWKS.

Refreshed from the database on a timer and right after a rotation, never per request: a request
signs with the cached ``JwsSigner`` (private key decrypted and parsed once per key) and the JWKS
endpoint serves pre-encoded bytes with a precomputed ``ETag``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

import msgspec

from auth_service.keys.material import load_private_key
from auth_service.keys.repository import SigningKeyRepository, SigningKeyRow
from auth_service.keys.rotation import associated_data
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.keys.signer import JwsSigner
from shared.db.pool import PostgresPool
from shared.errors import DomainError

__all__ = ["JwksDocument", "Keyring", "NoSigningKey"]

PublicKeysListener = Callable[[list[dict[str, Any]]], None]


class NoSigningKey(DomainError):
    """No active key is loaded yet (database not reachable since start-up)."""

    status = 503
    slug = "no-signing-key"
    detail = "No signing key is loaded yet; retry shortly."


class JwksDocument(msgspec.Struct, frozen=True):
    body: bytes
    etag: str


class Keyring:
    __slots__ = ("_jwks", "_kek", "_listeners", "_pool", "_repo", "_signer", "_signers", "rows")

    def __init__(self, pool: PostgresPool, kek: KeyEncryptionKey) -> None:
        self._pool = pool
        self._kek = kek
        self._repo = SigningKeyRepository()
        self._signer: JwsSigner | None = None
        self._signers: dict[str, JwsSigner] = {}
        self._jwks = JwksDocument(body=b'{"keys":[]}', etag='"empty"')
        self._listeners: list[PublicKeysListener] = []
        self.rows: list[SigningKeyRow] = []

    def on_public_keys(self, listener: PublicKeysListener) -> None:
        """Call ``listener`` with the published JWKs now and after every change."""
        self._listeners.append(listener)
        listener([row.public_jwk for row in self.rows])

    @property
    def signer(self) -> JwsSigner:
        if self._signer is None:
            raise NoSigningKey(headers={"Retry-After": "2"})
        return self._signer

    def is_ready(self) -> bool:
        return self._signer is not None

    @property
    def jwks(self) -> JwksDocument:
        return self._jwks

    async def refresh(self) -> None:
        async with self._pool.acquire() as conn:
            rows = await self._repo.all(conn)
        active = next((row for row in rows if row.state == "active"), None)
        if active is not None and active.kid not in self._signers:
            self._signers[active.kid] = await asyncio.to_thread(self._prepare, active)
        present = {row.kid for row in rows}
        self._signers = {kid: s for kid, s in self._signers.items() if kid in present}
        self._signer = self._signers[active.kid] if active is not None else None
        if [r.public_jwk for r in rows] != [r.public_jwk for r in self.rows]:
            self.rows = rows
            keys = [row.public_jwk for row in rows]
            body = msgspec.json.encode({"keys": keys})
            self._jwks = JwksDocument(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"')
            for listener in self._listeners:
                listener(keys)
        else:
            self.rows = rows

    def _prepare(self, row: SigningKeyRow) -> JwsSigner:
        der = self._kek.open(row.private_key, associated_data(row.kid, row.alg))
        return JwsSigner(row.kid, row.alg, load_private_key(der, row.alg))
