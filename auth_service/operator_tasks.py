"""What the operator commands do, outside HTTP: rotate signing keys, create the first admin."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import msgspec
from redis.asyncio import Redis

from auth_service.audit.service import Actor, AuditTrail
from auth_service.errors import Conflict, InvalidField
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
    kek = KeyEncryptionKey.from_settings(settings.key_encryption_key, settings.key_encryption_key_file)
    pool = PostgresPool(settings.database_url, min_size=1, max_size=2)
    try:
        outcome = await SigningKeys(pool, kek, settings).rotate()
        await AuditTrail(pool).record(
            "keys.rotate", OPERATOR, target_type="signing_key", target_id=outcome.pending
        )
        return outcome
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
    pool = PostgresPool(settings.database_url, min_size=1, max_size=2)
    redis = Redis.from_url(settings.redis_url)
    hashing = PasswordHashing(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
    )
    policy = PasswordPolicy(
        min_length=settings.password_min_length,
        max_length=settings.password_max_length,
        min_strength=settings.password_min_strength,
    )
    audit = AuditTrail(pool)
    sessions = SessionService(pool, AccessRevocations(DenyList(redis, settings.redis_prefix)), audit)
    users = UserService(pool, hashing, policy, sessions, audit)
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
        except Conflict:
            raise BootstrapRefused(f"{email} exists but is not an active admin; fix it by hand") from None
        except InvalidField as exc:
            raise BootstrapRefused(f"bootstrap admin not created: {exc.detail}") from None
    finally:
        hashing.close()
        await redis.aclose()
        await pool.close()
    if generated and settings.bootstrap_credentials_file:
        _write_credentials(settings.bootstrap_credentials_file, email, generated)
    return FirstAdmin(email=email, generated_password=generated)
