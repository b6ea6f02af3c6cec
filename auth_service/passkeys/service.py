"""A person's passkeys: register one (options, then the browser's answer), list, rename, remove.

Registration is a ceremony bound to the signed-in browser session (``challenges.py``); the new
credential is excluded from the next options (``excludeCredentials``), several per person up to
``AUTH_WEBAUTHN_MAX_PASSKEYS``, each with a name of its owner's (``Passkey``, ``Passkey 2``... when
none is given). The user handle is made once per person, random. Through ``FactorLink`` the
factors context takes part in every change, in its transaction: the notice mail, the first
recovery codes, and the role policy (the last factor a role requires cannot be removed). Using a
passkey is ``assertions.py``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

import msgspec

from auth_service.account_settings import PasskeySettings
from auth_service.audit.service import Actor, AuditTrail
from auth_service.browser_sessions.service import BrowserSession
from auth_service.passkeys.challenges import Ceremony, CeremonyChallenges, record_refusal
from auth_service.passkeys.errors import (
    PasskeyNameMissing,
    PasskeyNotFound,
    PasskeyRefused,
    StaleLogin,
    TooManyPasskeys,
)
from auth_service.passkeys.relying_party import RelyingParty
from auth_service.passkeys.repository import Passkey, PasskeyRepository
from auth_service.users.repository import UserRepository
from shared.db.pool import Connection, PostgresPool

__all__ = ["DEFAULT_NAME", "FactorLink", "Passkey", "PasskeyService", "Registered", "clean_name"]

HANDLE_BYTES = 32
MAX_NAME_CHARS = 64
DEFAULT_NAME = "Passkey"


class Registered(msgspec.Struct, frozen=True):
    """A new passkey, and the recovery codes to show once when it is the person's first factor."""

    passkey: Passkey
    recovery_codes: list[str] | None


class FactorLink(Protocol):
    """How passkeys take part in the second-factor policy of the factors context
    (``factor_source.FactorsLink``); each call runs in the change's transaction."""

    async def added(self, conn: Connection, user_id: UUID) -> list[str] | None:
        """A passkey was stored: the notice; the first recovery codes when the person had none."""

    async def allows(self, session: BrowserSession) -> bool:
        """Whether the session may manage passkeys: not one that lacks a second factor now due
        (a password-only session from before the person's first factor), as for the account page."""

    async def removed(self, conn: Connection, user_id: UUID) -> None:
        """A passkey was deleted: ``FactorRequired`` if that leaves a person whose role requires a
        factor with none (the deletion rolls back); else the notice, and the recovery codes go
        when no factor is left."""


def clean_name(name: str) -> str:
    """One line, no control characters, at most ``MAX_NAME_CHARS``; may come out empty."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in name).split())[:MAX_NAME_CHARS]


class PasskeyService:
    __slots__ = (
        "_audit",
        "_challenges",
        "_clock",
        "_link",
        "_party",
        "_pool",
        "_repo",
        "_settings",
        "_users",
    )

    def __init__(
        self,
        pool: PostgresPool,
        party: RelyingParty,
        challenges: CeremonyChallenges,
        settings: PasskeySettings,
        audit: AuditTrail,
        link: FactorLink | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``link`` None: passkeys alone (no notices, no recovery codes, no role policy)."""
        self._clock = clock
        self._challenges = challenges
        self._link = link
        self._pool = pool
        self._party = party
        self._settings = settings
        self._audit = audit
        self._repo = PasskeyRepository()
        self._users = UserRepository()

    async def may_manage(self, session: BrowserSession) -> bool:
        return await self._link.allows(session) if self._link is not None else True

    async def of_user(self, user_id: UUID) -> list[Passkey]:
        async with self._pool.acquire() as conn:
            return await self._repo.of_user(conn, user_id)

    def fresh(self, session: BrowserSession) -> bool:
        """Whether the session's login is recent enough to add a passkey (a cookie taken from an
        old session cannot plant its thief's passkey; the person just signs in again)."""
        return self._clock() - session.auth_time < self._settings.webauthn_registration_max_age

    async def registration_options(self, session: BrowserSession, previous: str | None) -> Ceremony:
        """``credentials.create`` options for the signed-in person (their passkeys excluded).
        Raises ``StaleLogin`` or ``TooManyPasskeys``."""
        if not self.fresh(session):
            raise StaleLogin
        user_id = session.user_id
        async with self._pool.acquire() as conn:
            user = await self._users.by_id(conn, user_id)
            if user is None:
                raise PasskeyRefused("unknown")
            registered = await self._repo.known(conn, user_id)
            if len(registered) >= self._settings.webauthn_max_passkeys:
                raise TooManyPasskeys
            handle = await self._repo.user_handle(conn, user_id, secrets.token_bytes(HANDLE_BYTES))
        challenge, secret = await self._challenges.issue(
            "register", previous, user_id=user_id, browser_session_id=session.id
        )
        options = self._party.registration_options(
            challenge,
            user_handle=handle,
            user_name=user.email,
            display_name=user.name or user.email,
            registered=registered,
        )
        return Ceremony(options, secret)

    async def register(
        self, session: BrowserSession, credential_json: str, name: str, secret: str | None, actor: Actor
    ) -> Registered:
        """Stores the new passkey; ``PasskeyRefused``, ``PasskeyExists``, ``PasskeyNameTaken``,
        ``TooManyPasskeys`` or ``StaleLogin`` otherwise (a refusal is audited with its reason)."""
        user_id = session.user_id
        if not self.fresh(session):
            raise StaleLogin
        try:
            challenge = await self._challenges.take(secret, "register", user_id=user_id, session=session.id)
            credential = self._party.verify_registration(credential_json, challenge)
        except PasskeyRefused as refused:
            await record_refusal(self._audit, "passkey.register", refused, actor, user_id)
            raise
        async with self._pool.acquire() as conn, conn.transaction():
            wanted = clean_name(name) or await self._free_name(conn, user_id)
            passkey = await self._repo.insert(
                conn, user_id, credential, wanted, self._settings.webauthn_max_passkeys
            )
            if passkey is None:
                raise TooManyPasskeys
            await self._audit.record(
                "passkey.register",
                actor,
                target_type="user",
                target_id=str(user_id),
                details={"passkey": str(passkey.id), "name": passkey.name, "synced": passkey.backup_eligible},
                conn=conn,
            )
            codes = await self._link.added(conn, user_id) if self._link else None
        return Registered(passkey, codes)

    async def _free_name(self, conn: Connection, user_id: UUID) -> str:
        taken = {p.name for p in await self._repo.of_user(conn, user_id)}
        return next(
            n for n in (DEFAULT_NAME, *(f"{DEFAULT_NAME} {i}" for i in range(2, 200))) if n not in taken
        )

    async def rename(self, user_id: UUID, passkey_id: UUID, name: str, actor: Actor) -> str:
        """The new name; ``PasskeyNotFound``, ``PasskeyNameTaken``, ``PasskeyNameMissing``."""
        wanted = clean_name(name)
        if not wanted:
            raise PasskeyNameMissing
        async with self._pool.acquire() as conn:
            if not await self._repo.rename(conn, user_id, passkey_id, wanted):
                raise PasskeyNotFound
        await self._audit.record(
            "passkey.rename", actor, target_type="user", target_id=str(user_id),
            details={"passkey": str(passkey_id), "name": wanted},
        )  # fmt: skip
        return wanted

    async def remove(self, user_id: UUID, passkey_id: UUID, actor: Actor) -> str:
        """The removed passkey's name; ``PasskeyNotFound`` if the person has no such passkey, or
        the link's ``FactorRequired`` (it was the last factor a role requires)."""
        async with self._pool.acquire() as conn, conn.transaction():
            name = await self._repo.remove(conn, user_id, passkey_id)
            if name is None:
                raise PasskeyNotFound
            if self._link is not None:
                await self._link.removed(conn, user_id)
            await self._audit.record(
                "passkey.remove", actor, target_type="user", target_id=str(user_id),
                details={"passkey": str(passkey_id), "name": name}, conn=conn,
            )  # fmt: skip
        return name
