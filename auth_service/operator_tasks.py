"""What the operator commands do, outside HTTP: rotate, revoke or reseal signing keys, create or
recover an admin.

Every one is audited as the ``operator`` (``OPERATOR_ID``), whose powers are unbounded: it runs with
database access, which is already every power.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.errors import EmailTaken, InvalidField
from auth_service.keys.resealing import Reseal
from auth_service.keys.revocation import KeyRevocation
from auth_service.keys.rotation import RotationOutcome
from auth_service.keys.service import SigningKeys, key_encryption_key
from auth_service.passwords.hashing import PasswordHashing
from auth_service.passwords.policy import PasswordPolicy
from auth_service.powers.service import OPERATOR_ID
from auth_service.resources.registry import ResourceRegistry
from auth_service.revocations.service import Revoker
from auth_service.settings import AuthSettings
from auth_service.tokens.sessions import SessionService
from auth_service.users.recovery import AdminRecovery, RecoveredAdmin
from auth_service.users.schemas import UserCreate
from auth_service.users.service import UserService
from shared.db.pool import PostgresPool

__all__ = [
    "BootstrapRefused",
    "FirstAdmin",
    "RecoveredAdmin",
    "RecoveryRefused",
    "create_first_admin",
    "recover_admin",
    "reseal_keys",
    "revoke_key",
    "rotate_keys",
]

OPERATOR = Actor(id=OPERATOR_ID)


class BootstrapRefused(RuntimeError):
    pass


class RecoveryRefused(RuntimeError):
    pass


class FirstAdmin(msgspec.Struct, frozen=True):
    email: str
    generated_password: str | None


@asynccontextmanager
async def _signing_keys(settings: AuthSettings) -> AsyncIterator[SigningKeys]:
    """The signing keys over a small pool (raises ``KeyEncryptionKeyError`` for a bad KEK setting)."""
    keys = settings.keys
    kek = key_encryption_key(keys)
    pool = PostgresPool(settings.database.database_url, min_size=1, max_size=2)
    try:
        yield SigningKeys(pool, kek, keys, settings.key_retention_seconds, audit=AuditTrail(pool))
    finally:
        await pool.close()


async def rotate_keys(settings: AuthSettings) -> RotationOutcome:
    """Audited like a rotation through the admin API, as the ``operator``."""
    async with _signing_keys(settings) as signing_keys:
        return await signing_keys.rotate(OPERATOR)


async def revoke_key(settings: AuthSettings, kid: str) -> KeyRevocation:
    """Emergency revocation, as through the admin API; the replicas hear of it through the
    revocation feed (or their next key refresh). Raises ``SigningKeyNotFound``."""
    async with _signing_keys(settings) as signing_keys:
        return await signing_keys.revoke(kid, OPERATOR)


async def reseal_keys(settings: AuthSettings) -> Reseal:
    """Every signing key sealed again under the newest key-encryption key, audited."""
    async with _signing_keys(settings) as signing_keys:
        return await signing_keys.reseal(OPERATOR)


def _write_credentials(path: str, email: str, password: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(f"email={email}\npassword={password}\n")
    target.chmod(0o600)


@dataclass(frozen=True, slots=True)
class _AccountTools:
    users: UserService
    recovery: AdminRecovery


@asynccontextmanager
async def _account_tools(settings: AuthSettings) -> AsyncIterator[_AccountTools]:
    """The account services over a small pool, closed (with argon2's executor) on the way out."""
    pool = PostgresPool(settings.database.database_url, min_size=1, max_size=2)
    hashing = PasswordHashing.from_settings(settings.passwords)
    audit = AuditTrail(pool)
    try:
        revoker = await _revoker(settings, pool)
        sessions = SessionService(pool, revoker, audit)
        policy = PasswordPolicy.from_settings(settings.passwords)
        yield _AccountTools(
            users=UserService(pool, hashing, policy, sessions, revoker, audit),
            recovery=AdminRecovery(pool, hashing, sessions, audit),
        )
    finally:
        hashing.close()
        await pool.close()


async def _revoker(settings: AuthSettings, pool: PostgresPool) -> Revoker:
    """Revocations recorded for the running replicas' publishers to push (no Redis here), kept as
    long as the longest access-token lifetime the resource servers have now."""
    registry = ResourceRegistry(pool, interval=settings.oauth.resource_refresh_interval)
    await registry.refresh()
    default_ttl = settings.tokens.access_token_ttl
    return Revoker(lambda: registry.longest_ttl(default_ttl))


async def create_first_admin(settings: AuthSettings, email: str, password: str | None) -> FirstAdmin | None:
    """``None`` when an active user already holds every admin scope (idempotent)."""
    generated = None if password else secrets.token_urlsafe(18)
    async with _account_tools(settings) as tools:
        if await tools.users.administrator_exists():
            return None
        try:
            await tools.users.create(
                UserCreate(email=email, password=password or generated or "", roles=["admin"]),
                OPERATOR,
                action="user.bootstrap_admin",
            )
        except EmailTaken:
            raise BootstrapRefused(
                f"{email} exists but is not an active admin; use `users recover-admin --email {email}`"
            ) from None
        except InvalidField as exc:
            raise BootstrapRefused(f"bootstrap admin not created: {exc.detail}") from None
    if generated and settings.users.bootstrap_credentials_file:
        _write_credentials(settings.users.bootstrap_credentials_file, email, generated)
    return FirstAdmin(email=email, generated_password=generated)


async def recover_admin(settings: AuthSettings, email: str) -> tuple[RecoveredAdmin, str]:
    """Give ``email`` the ``admin`` role with every admin scope and a new generated password
    (returned, and written to ``AUTH_BOOTSTRAP_CREDENTIALS_FILE`` when set)."""
    password = secrets.token_urlsafe(18)
    async with _account_tools(settings) as tools:
        try:
            recovered = await tools.recovery.recover(email, password, OPERATOR)
        except InvalidField as exc:
            raise RecoveryRefused(f"admin not recovered: {exc.detail}") from None
    if settings.users.bootstrap_credentials_file:
        _write_credentials(settings.users.bootstrap_credentials_file, recovered.email, password)
    return recovered, password
