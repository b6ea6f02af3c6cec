"""A replica's in-memory view of the signing keys: the prepared signer and the published JWKS.

Refreshed from the database on a timer and right after a rotation, never per request: a request
signs with the cached ``JwsSigner`` (private key decrypted and parsed once per key) and the JWKS
endpoint serves pre-encoded bytes with a precomputed ``ETag``.

A revoked key is dropped the moment this replica hears of it (``forget``: its own revocation, or
the revocation feed's ``kid`` event for one made elsewhere), before the database is even read
again, and the kid is remembered: a refresh that read the table just before the revocation
committed cannot bring it back. Listeners (``on_key_revoked``) hear of each revoked kid once, so
this service's own token verifiers can drop it and what they cached.

The signer is always the database's active key or nothing: if the active key does not open with
any configured key-encryption key, this replica signs nothing (503, not ready) and says at each
refresh which setting to fix, rather than keep signing with a key the others have moved on from.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from typing import Any

import msgspec

from auth_service.keys.material import load_private_key
from auth_service.keys.repository import SigningKeyRepository, SigningKeyRow
from auth_service.keys.rotation import associated_data
from auth_service.keys.sealing import KEK_SETTINGS, KeyEncryptionKey, KeyEncryptionKeyError
from auth_service.keys.signer import JwsSigner
from shared.db.pool import PostgresPool
from shared.errors import DomainError

__all__ = ["JwksDocument", "Keyring", "NoSigningKey"]

log = logging.getLogger(__name__)

PublicKeysListener = Callable[[list[dict[str, Any]]], None]
RevokedKeyListener = Callable[[str], None]


class NoSigningKey(DomainError):
    """No active key is loaded yet (database not reachable since start-up)."""

    status = 503
    slug = "no-signing-key"
    detail = "No signing key is loaded yet; retry shortly."


class JwksDocument(msgspec.Struct, frozen=True):
    body: bytes
    etag: str


def _jwks(keys: list[dict[str, Any]]) -> JwksDocument:
    body = msgspec.json.encode({"keys": keys})
    return JwksDocument(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"')


class Keyring:
    __slots__ = (
        "_announced",
        "_jwks",
        "_kek",
        "_listeners",
        "_lock",
        "_pool",
        "_repo",
        "_revoked",
        "_revoked_listeners",
        "_signer",
        "_signers",
        "rows",
    )

    def __init__(self, pool: PostgresPool, kek: KeyEncryptionKey) -> None:
        self._pool = pool
        self._kek = kek
        self._repo = SigningKeyRepository()
        self._signer: JwsSigner | None = None
        self._signers: dict[str, JwsSigner] = {}
        self._announced: list[dict[str, Any]] = []
        self._jwks = _jwks([])
        self._listeners: list[PublicKeysListener] = []
        self._revoked_listeners: list[RevokedKeyListener] = []
        self._revoked: set[str] = set()
        self._lock = asyncio.Lock()
        self.rows: list[SigningKeyRow] = []
        """Every stored key, revoked ones included (the admin listing)."""

    def on_public_keys(self, listener: PublicKeysListener) -> None:
        """Call ``listener`` with the published JWKs now and after every change."""
        self._listeners.append(listener)
        listener(self._announced)

    def on_key_revoked(self, listener: RevokedKeyListener) -> None:
        """Call ``listener(kid)`` once for each key this replica learns is revoked."""
        self._revoked_listeners.append(listener)

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

    def _published(self, rows: list[SigningKeyRow]) -> list[dict[str, Any]]:
        return [row.public_jwk for row in rows if row.published and row.kid not in self._revoked]

    def forget(self, kid: str) -> None:
        """``kid`` is revoked: stop signing with it and unpublish it now, without I/O."""
        if kid in self._revoked:
            return
        self._revoked.add(kid)
        self._signers.pop(kid, None)
        if self._signer is not None and self._signer.kid == kid:
            self._signer = None
        self._apply(self.rows)
        for listener in self._revoked_listeners:
            try:
                listener(kid)
            except Exception:  # one listener's failure must not keep the key loaded elsewhere
                log.exception("a listener failed on the revocation of signing key %s", kid)

    async def refresh(self) -> None:
        async with self._lock:
            async with self._pool.acquire() as conn:
                rows = await self._repo.all(conn)
            for row in rows:
                if row.state == "revoked":
                    self.forget(row.kid)
            active = next((r for r in rows if r.state == "active" and r.kid not in self._revoked), None)
            if active is not None and active.kid not in self._signers:
                try:
                    self._signers[active.kid] = await asyncio.to_thread(self._prepare, active)
                except KeyEncryptionKeyError:
                    log.error(
                        "the active signing key %s does not open with any configured key-encryption "
                        "key: this replica signs nothing until %s holds the key that sealed it",
                        active.kid,
                        KEK_SETTINGS,
                    )
            present = {row.kid for row in rows}
            self._signers = {kid: s for kid, s in self._signers.items() if kid in present}
            self._signer = self._signers.get(active.kid) if active is not None else None
            self._apply(rows)

    def _apply(self, rows: list[SigningKeyRow]) -> None:
        """Take ``rows`` as the current keys; re-encode and announce the JWKS if it changed."""
        self.rows = rows
        keys = self._published(rows)
        if keys != self._announced:
            self._announced = keys
            self._jwks = _jwks(keys)
            for listener in self._listeners:
                listener(keys)

    def _prepare(self, row: SigningKeyRow) -> JwsSigner:
        der = self._kek.open(row.private_key, associated_data(row.kid, row.alg))
        return JwsSigner(row.kid, row.alg, load_private_key(der, row.alg))
