"""Ceremony challenges: issued with the options, taken back (once) by the answer.

A challenge is stored under the digest of a fresh secret that only the browser's ceremony cookie
holds (``cookies.py``), so it is bound to that browser; taking it deletes it first, whatever the
answer then says, so it is single use. A registration's challenge is also bound to the browser
session that asked, a second factor's to the person whose password was just checked: an answer
of another purpose, person or session finds nothing (``PasskeyRefused("expired")``, as a
challenge past its lifetime does). A new ceremony of the same browser drops its previous one.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal
from uuid import UUID

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.passkeys.errors import PasskeyRefused
from auth_service.passkeys.repository import Challenge, PasskeyRepository, StoredCredential
from auth_service.random_secrets import digest, new_secret
from shared.db.pool import PostgresPool

__all__ = ["CHALLENGE_BYTES", "Ceremony", "CeremonyChallenges", "Purpose", "record_refusal"]

Purpose = Literal["register", "login", "second_factor"]
CHALLENGE_BYTES = 32


class Ceremony(msgspec.Struct, frozen=True):
    """Options for the browser, and the secret its ceremony cookie must carry back."""

    options: dict[str, Any]
    secret: str


class CeremonyChallenges:
    __slots__ = ("_pool", "_repo", "_ttl")

    def __init__(self, pool: PostgresPool, ttl: int) -> None:
        self._pool = pool
        self._ttl = ttl
        self._repo = PasskeyRepository()

    async def issue(
        self,
        purpose: Purpose,
        previous: str | None,
        *,
        user_id: UUID | None = None,
        browser_session_id: UUID | None = None,
    ) -> tuple[bytes, str]:
        """A new challenge and the secret its cookie carries; ``previous`` (the browser's last
        ceremony secret, if any) is dropped."""
        challenge, secret = secrets.token_bytes(CHALLENGE_BYTES), new_secret()
        async with self._pool.acquire() as conn:
            if previous:
                await self._repo.drop_challenge(conn, digest(previous))
            await self._repo.new_challenge(
                conn,
                digest(secret),
                purpose=purpose,
                challenge=challenge,
                user_id=user_id,
                browser_session_id=browser_session_id,
                ttl=self._ttl,
            )
        return challenge, secret

    async def take(
        self,
        secret: str | None,
        purpose: Purpose,
        *,
        user_id: UUID | None = None,
        session: UUID | None = None,
    ) -> bytes:
        """The ceremony's challenge, taken (single use), or ``PasskeyRefused("expired")``."""
        if not secret:
            raise PasskeyRefused("expired")
        async with self._pool.acquire() as conn:
            taken = await self._repo.take_challenge(conn, digest(secret))
        return _checked(taken, purpose, user_id, session)

    async def take_with(
        self, secret: str | None, purpose: Purpose, credential_id: bytes, *, user_id: UUID | None = None
    ) -> tuple[bytes, StoredCredential | None]:
        """``take``, and the credential an assertion names, read in the same statement."""
        if not secret:
            raise PasskeyRefused("expired")
        async with self._pool.acquire() as conn:
            taken, stored = await self._repo.take_challenge_with(conn, digest(secret), credential_id)
        return _checked(taken, purpose, user_id, None), stored

    async def drop(self, secret: str | None) -> None:
        """Spend the ceremony's challenge without an answer (one it could not read)."""
        if secret:
            async with self._pool.acquire() as conn:
                await self._repo.drop_challenge(conn, digest(secret))


def _checked(taken: Challenge | None, purpose: Purpose, user_id: UUID | None, session: UUID | None) -> bytes:
    if (
        taken is None
        or not taken.live
        or taken.purpose != purpose
        or (user_id is not None and taken.user_id != user_id)
        or (session is not None and taken.browser_session_id != session)
    ):
        raise PasskeyRefused("expired")
    return taken.challenge


async def record_refusal(
    audit: AuditTrail,
    action: str,
    refused: PasskeyRefused,
    actor: Actor,
    user_id: UUID | None,
    stored: StoredCredential | None = None,
) -> None:
    """A clone is its own event, ``passkey.cloned`` (an operator should look at it); any other
    refusal is the ceremony's ``action`` failing, with its reason."""
    details = {"reason": refused.reason, "note": refused.note}
    if stored is not None:
        details |= {"passkey": str(stored.id), "name": stored.name}
    await audit.record(
        "passkey.cloned" if refused.reason == "cloned" else action,
        actor,
        outcome="failure",
        target_type="user" if user_id else None,
        target_id=str(user_id) if user_id else None,
        details=details,
    )
