"""What the operator commands do, outside HTTP: rotate signing keys, create the first admin."""

from __future__ import annotations

import os
import secrets
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
from auth_service.settings import AuthSettings
from auth_service.tokens.revocations import AccessRevocations
from auth_service.tokens.sessions import SessionService
from auth_service.users.schemas import UserCreate
from auth_service.users.service import UserService
from shared.auth.deny_list import DenyList
from shared.db.pool import PostgresPool

__all__ = ["BootstrapRefused", "FirstAdmin", "create_first_admin", "rotate_keys"]

OPERATOR = Actor(id="operator")


class BootstrapRefused(RuntimeError):
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


async def create_first_admin(settings: AuthSettings, email: str, password: str | None) -> FirstAdmin | None:
    """``None`` when an active user already holds ``users:manage`` (idempotent)."""
    pool = PostgresPool(settings.database.database_url, min_size=1, max_size=2)
    redis = Redis.from_url(settings.redis.redis_url)
    hashing = PasswordHashing.from_settings(settings.passwords)
    audit = AuditTrail(pool)
    sessions = SessionService(pool, AccessRevocations(DenyList(redis, settings.redis.redis_prefix)), audit)
    users = UserService(pool, hashing, PasswordPolicy.from_settings(settings.passwords), sessions, audit)
    generated = None if password else secrets.token_urlsafe(18)
    try:
        if await users.any_manager_exists():
            return None
        try:
            await users.create(
                UserCreate(email=email, password=password or generated or "", roles=["admin"]),
                OPERATOR,
                action="user.bootstrap_admin",
            )
        except EmailTaken:
            raise BootstrapRefused(f"{email} exists but is not an active admin; fix it by hand") from None
        except InvalidField as exc:
            raise BootstrapRefused(f"bootstrap admin not created: {exc.detail}") from None
    finally:
        hashing.close()
        await redis.aclose()
        await pool.close()
    if generated and settings.users.bootstrap_credentials_file:
        _write_credentials(settings.users.bootstrap_credentials_file, email, generated)
    return FirstAdmin(email=email, generated_password=generated)
