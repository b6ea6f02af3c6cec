"""``keys reseal``: every signing key sealed again under the newest key-encryption key.

The second half of a KEK rotation. With the new KEK sealing and the old one still configured as a
previous key, each stored key is opened (with whichever KEK sealed it) and sealed under the newest,
all in one transaction under the rotation lock: either every key moves or none does, so a key that
opens with no configured KEK stops the whole run, named, with nothing changed. Revoked keys are
left out: nothing opens them again. Afterwards the previous KEKs can leave the settings. The
private keys themselves do not change: tokens, the JWKS and every verifier are unaffected. The
second factors' sealed secrets (TOTP, recovery-code keys) and the mail still waiting in the outbox
move in the same transaction.
"""

from __future__ import annotations

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.factors.resealing import reseal_factor_secrets
from auth_service.keys.repository import SigningKeyRepository
from auth_service.keys.rotation import associated_data
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.mail.resealing import reseal_outbox
from shared.db.pool import PostgresPool

__all__ = ["KeyResealing", "Reseal"]


class Reseal(msgspec.Struct, frozen=True):
    resealed: int
    """Signing keys now sealed under the newest KEK (every stored one but the revoked)."""
    from_previous: int
    """Of those, the ones that were sealed under a previous KEK."""
    factor_secrets: int = 0
    """Second factors' sealed secrets (TOTP, recovery-code keys) resealed with them."""
    mail: int = 0
    """Messages still waiting in the mail outbox resealed with them."""


class KeyResealing:
    __slots__ = ("_audit", "_kek", "_pool", "_repo")

    def __init__(self, pool: PostgresPool, kek: KeyEncryptionKey, audit: AuditTrail) -> None:
        self._pool = pool
        self._kek = kek
        self._audit = audit
        self._repo = SigningKeyRepository()

    async def reseal(self, actor: Actor) -> Reseal:
        from_previous: list[str] = []
        async with self._pool.acquire() as conn, conn.transaction():
            await self._repo.lock(conn)
            keys = await self._repo.sealed(conn)
            for key in keys:
                sealed, was_previous = self._kek.reseal(
                    key.private_key, associated_data(key.kid, key.alg), name=f"signing key {key.kid}"
                )
                await self._repo.replace_sealed(conn, key.kid, sealed)
                if was_previous:
                    from_previous.append(key.kid)
            factor_secrets = await reseal_factor_secrets(conn, self._kek)
            mail = await reseal_outbox(conn, self._kek)
            await self._audit.record(
                "key.reseal",
                actor,
                target_type="signing_key",
                details={
                    "resealed": [key.kid for key in keys],
                    "from_previous": from_previous,
                    "factor_secrets": factor_secrets,
                    "mail": mail,
                },
                conn=conn,
            )
        return Reseal(
            resealed=len(keys), from_previous=len(from_previous), factor_secrets=factor_secrets, mail=mail
        )
