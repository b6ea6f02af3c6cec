"""The operator commands, run as an operator runs them: ``python -m auth_service ...``."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import asyncpg

from tests.auth_service.conftest import new_kek
from tests.conftest import ROOT


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auth_service", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cli_env(auth_db: str, redis_url: str, redis_namespace: str, **extra: str) -> dict[str, str]:
    return {
        "AUTH_DATABASE_URL": auth_db,
        "AUTH_REDIS_URL": redis_url,
        "AUTH_REDIS_PREFIX": f"{redis_namespace}:cli:",
        "AUTH_KEY_ENCRYPTION_KEY": new_kek(),
        "AUTH_ARGON2_MEMORY_KIB": "64",
        "AUTH_ARGON2_TIME_COST": "1",
        **extra,
    }


async def test_bootstrap_admin_generates_credentials_once(
    auth_db: str, redis_url: str, redis_namespace: str, tmp_path: Path
) -> None:
    credentials = tmp_path / "admin.txt"
    env = cli_env(
        auth_db,
        redis_url,
        redis_namespace,
        AUTH_BOOTSTRAP_CREDENTIALS_FILE=str(credentials),
        AUTH_BOOTSTRAP_ADMIN_EMAIL="boss@example.com",
    )
    first = run(env, "users", "bootstrap-admin")
    assert first.returncode == 0, first.stderr
    assert "created admin boss@example.com" in first.stdout
    password = first.stdout.split("(shown once): ")[1].split()[0]
    assert len(password) >= 20
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert credentials.read_text() == f"email=boss@example.com\npassword={password}\n"
    second = run(env, "users", "bootstrap-admin")
    assert second.returncode == 0
    assert "already exists; nothing to do" in second.stdout
    assert password not in second.stdout
    conn = await asyncpg.connect(auth_db)
    try:
        rows = await conn.fetch(
            "SELECT u.email::text AS email FROM users u JOIN user_roles ur ON ur.user_id = u.id "
            "JOIN roles r ON r.id = ur.role_id WHERE r.name = 'admin'"
        )
    finally:
        await conn.close()
    assert [r["email"] for r in rows] == ["boss@example.com"]


def test_bootstrap_admin_takes_the_unprefixed_names_and_applies_the_policy(
    auth_db: str, redis_url: str, redis_namespace: str
) -> None:
    weak = cli_env(
        auth_db,
        redis_url,
        redis_namespace,
        BOOTSTRAP_ADMIN_EMAIL="ops@example.com",
        BOOTSTRAP_ADMIN_PASSWORD="admin",
    )
    refused = run(weak, "users", "bootstrap-admin")
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "auth-service: bootstrap admin not created: The password must be at least 12"
    )
    strong = {**weak, "BOOTSTRAP_ADMIN_PASSWORD": "a sturdy operator passphrase"}
    created = run(strong, "users", "bootstrap-admin")
    assert created.returncode == 0, created.stderr
    assert "created admin ops@example.com" in created.stdout
    assert "shown once" not in created.stdout


async def test_keys_rotate_publishes_a_next_key(auth_db: str, redis_url: str, redis_namespace: str) -> None:
    env = cli_env(auth_db, redis_url, redis_namespace, AUTH_KEY_PREPUBLISH_SECONDS="3600")
    result = run(env, "keys", "rotate")
    assert result.returncode == 0, result.stderr
    assert "signs in 3600 s" in result.stdout
    conn = await asyncpg.connect(auth_db)
    try:
        states = sorted(r["state"] for r in await conn.fetch("SELECT state FROM signing_keys"))
        audited = await conn.fetchval("SELECT count(*) FROM audit_events WHERE action = 'keys.rotate'")
    finally:
        await conn.close()
    assert states == ["active", "next"]
    assert audited == 1


def test_serve_without_a_kek_is_one_clear_line(auth_db: str) -> None:
    env = {"AUTH_DATABASE_URL": auth_db, "AUTH_KEY_ENCRYPTION_KEY": "", "AUTH_KEY_ENCRYPTION_KEY_FILE": ""}
    result = run(env, "serve")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "auth-service: no key-encryption key: set AUTH_KEY_ENCRYPTION_KEY or AUTH_KEY_ENCRYPTION_KEY_FILE"
    )
