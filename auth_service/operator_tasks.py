"""What the operator commands do, outside HTTP: rotate signing keys, create or recover an admin.

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
from redis.asyncio import Redis

from auth_service.audit.service import Actor, AuditTrail
from auth_service.errors import EmailTaken, InvalidField
from auth_service.keys.rotation import RotationOutcome
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.keys.service import SigningKeys
from auth_service.passwords.hashing import PasswordHashing
from auth_service.passwords.policy import PasswordPolicy
from auth_service.powers.service import OPERATOR_ID
from auth_service.settings import AuthSettings
from auth_service.tokens.revocations import AccessRevocations
from auth_service.tokens.sessions import SessionService
from auth_service.users.recovery import AdminRecovery, RecoveredAdmin
from auth_service.users.schemas import UserCreate
from auth_service.users.service import UserService
from shared.auth.deny_list import DenyList
from shared.db.pool import PostgresPool

__all__ = [
    "BootstrapRefused",
    "FirstAdmin",
    "RecoveredAdmin",
    "RecoveryRefused",
    "create_first_admin",
    "recover_admin",
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


async def rotate_keys(settings: AuthSettings) -> RotationOutcome:
    """Audited like a rotation through the admin API, as the ``operator``."""
    keys = settings.keys
    kek = KeyEncryptionKey.from_settings(keys.key_encryption_key, keys.key_encryption_key_file)
    pool = PostgresPool(settings.database.database_url, min_size=1, max_size=2)
    try:
        signing_keys = SigningKeys(pool, kek, keys, settings.key_retention_seconds, audit=AuditTrail(pool))
        return await signing_keys.rotate(OPERATOR)
    finally:
        await pool.close()


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
    redis = Redis.from_url(settings.redis.redis_url)
    hashing = PasswordHashing.from_settings(settings.passwords)
    audit = AuditTrail(pool)
    sessions = SessionService(pool, AccessRevocations(DenyList(redis, settings.redis.redis_prefix)), audit)
    policy = PasswordPolicy.from_settings(settings.passwords)
    try:
        yield _AccountTools(
            users=UserService(pool, hashing, policy, sessions, audit),
            recovery=AdminRecovery(pool, hashing, sessions, audit),
        )
    finally:
        hashing.close()
        await redis.aclose()
        await pool.close()


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
