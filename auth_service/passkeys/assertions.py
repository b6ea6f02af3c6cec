"""Using a passkey: the options of a passwordless login or a second factor, and the assertion.

An assertion names its credential; the credential must belong to an active account (and, for a
second factor, to the person whose password was right), its ``userHandle`` must name the same
owner, and its signature must hold for our RP id, an allowed origin and the ceremony's challenge,
with user verification for a passwordless login. A counter that does not go up on an
authenticator that counts means two authenticators hold the same key: refused and audited as
``passkey.cloned``. The backup state is updated on every use; the backup eligibility must not
change (the ``amr`` value rests on it: ``hwk`` or ``swk``). Every refusal is one
``PasskeyRefused``, its reason kept for the audit trail.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from webauthn.helpers.structs import AuthenticationCredential

from auth_service.audit.service import Actor, AuditTrail
from auth_service.oidc.assurance import AMR_HARDWARE_KEY, AMR_MFA, AMR_PASSWORD, AMR_SOFTWARE_KEY
from auth_service.passkeys.challenges import Ceremony, CeremonyChallenges, Purpose, record_refusal
from auth_service.passkeys.errors import PasskeyRefused
from auth_service.passkeys.login_challenges import LoginChallenges
from auth_service.passkeys.relying_party import RelyingParty, answered_challenge, parse_assertion
from auth_service.passkeys.repository import PasskeyRepository, StoredCredential
from shared.db.pool import PostgresPool

__all__ = ["PasskeyAssertions", "UsedPasskey", "key_method", "passkey_amr"]


class UsedPasskey(msgspec.Struct, frozen=True):
    """A verified assertion: whose passkey, and what it proves."""

    user_id: UUID
    passkey_id: UUID
    backup_eligible: bool
    user_verified: bool


def key_method(backup_eligible: bool) -> str:
    """RFC 8176: ``hwk`` for a device-bound key, ``swk`` for a synced one (backup eligible)."""
    return AMR_SOFTWARE_KEY if backup_eligible else AMR_HARDWARE_KEY


def passkey_amr(used: UsedPasskey, *, after_password: bool) -> list[str]:
    """``hwk`` or ``swk``, and ``mfa`` because after a password a passkey is the second factor,
    and alone with user verification it is two already (the device, and the PIN or biometric
    that unlocked it)."""
    key = key_method(used.backup_eligible)
    methods = [AMR_PASSWORD, key] if after_password else [key]
    return [*methods, AMR_MFA] if after_password or used.user_verified else methods


def check_owner(stored: StoredCredential, handle: bytes | None, user_id: UUID | None) -> None:
    """A second factor must be the person's own credential; a discoverable login must name its
    owner by ``userHandle`` (WebAuthn section 7.2, step 6), and any handle given must be the owner's."""
    if user_id is not None and stored.user_id != user_id:
        raise PasskeyRefused("other_user")
    if handle is None and user_id is None:
        raise PasskeyRefused("invalid", "no userHandle in a discoverable login")
    if handle is not None and handle != stored.user_handle:
        raise PasskeyRefused("other_user", "the userHandle is not the credential owner's")


class PasskeyAssertions:
    __slots__ = ("_audit", "_challenges", "_login", "_party", "_pool", "_repo")

    def __init__(
        self,
        pool: PostgresPool,
        party: RelyingParty,
        challenges: CeremonyChallenges,
        audit: AuditTrail,
        login: LoginChallenges,
    ) -> None:
        self._pool = pool
        self._party = party
        self._challenges = challenges
        self._audit = audit
        self._login = login
        self._repo = PasskeyRepository()

    def login_options(self) -> dict[str, Any]:
        """A discoverable login: no credential named, user verification required, and a challenge
        that needs no row (``login_challenges.py``), so the login page can carry it."""
        challenge = self._login.mint()
        return self._party.authentication_options(challenge, allowed=[], verification="required")

    async def second_factor_options(self, user_id: UUID, previous: str | None) -> Ceremony:
        """After the password: the person's own credentials, user verification preferred.
        ``PasskeyRefused("unknown")`` when they have none."""
        async with self._pool.acquire() as conn:
            allowed = await self._repo.known(conn, user_id)
        if not allowed:
            raise PasskeyRefused("unknown")
        challenge, secret = await self._challenges.issue("second_factor", previous, user_id=user_id)
        options = self._party.authentication_options(challenge, allowed=allowed, verification="preferred")
        return Ceremony(options, secret)

    async def authenticate(
        self, credential_json: str, secret: str | None, actor: Actor, *, user_id: UUID | None = None
    ) -> UsedPasskey:
        """A discoverable login (``user_id`` None: the challenge is the signed one, ``secret`` unused)
        or the second factor of ``user_id`` (the challenge stored under the ceremony's ``secret``)."""
        purpose: Purpose = "login" if user_id is None else "second_factor"
        stored: StoredCredential | None = None
        try:
            try:
                assertion = parse_assertion(credential_json)
            except PasskeyRefused:
                if user_id is not None:
                    await self._challenges.drop(secret)  # single use, even for an answer it cannot read
                raise
            if user_id is None:
                challenge, stored = await self._spend_login_challenge(assertion)
            else:
                challenge, stored = await self._challenges.take_with(
                    secret, purpose, assertion.raw_id, user_id=user_id
                )
            if stored is None:
                raise PasskeyRefused("unknown")
            check_owner(stored, assertion.response.user_handle, user_id)
            verified = self._party.verify_assertion(
                assertion, challenge, public_key=stored.public_key, require_verification=user_id is None
            )
            if verified.backup_eligible != stored.backup_eligible:
                raise PasskeyRefused("invalid", "the backup eligibility changed")
            async with self._pool.acquire() as conn:
                if not await self._repo.use(conn, stored.id, verified.sign_count, verified.backed_up):
                    counts = f"sign count {verified.sign_count}, stored {stored.sign_count}"
                    raise PasskeyRefused("cloned", counts)
        except PasskeyRefused as refused:
            owner = stored.user_id if stored else user_id
            await record_refusal(self._audit, f"passkey.{purpose}", refused, actor, owner, stored)
            raise
        return UsedPasskey(stored.user_id, stored.id, stored.backup_eligible, verified.user_verified)

    async def _spend_login_challenge(
        self, assertion: AuthenticationCredential
    ) -> tuple[bytes, StoredCredential | None]:
        """The login challenge the answer signed, checked and spent, with the credential it names."""
        challenge = answered_challenge(assertion)
        expires = self._login.check(challenge)
        async with self._pool.acquire() as conn:
            fresh, stored = await self._repo.spend_login_challenge_with(
                conn, self._login.digest(challenge), expires, assertion.raw_id
            )
        if not fresh:
            raise PasskeyRefused("expired", "the login challenge was answered before")
        return challenge, stored
