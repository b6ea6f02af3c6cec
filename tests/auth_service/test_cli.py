"""The operator commands, run as an operator runs them: ``python -m auth_service ...``."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import asyncpg

from auth_service.powers.service import ADMIN_SCOPES
from tests.auth_service.conftest import SettingsFactory, new_kek, serving
from tests.auth_service.test_token_grants import claims_of, password_form
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


async def test_keys_reseal_moves_every_key_to_the_new_kek(
    make_settings: SettingsFactory, auth_db: str, redis_url: str, redis_namespace: str
) -> None:
    old_env = cli_env(auth_db, redis_url, redis_namespace)
    assert run(old_env, "keys", "rotate").returncode == 0  # an active and a next key, sealed by the old KEK
    new_kek_text = new_kek()
    rotating = {
        **old_env,
        "AUTH_KEY_ENCRYPTION_KEY": new_kek_text,
        "AUTH_PREVIOUS_KEY_ENCRYPTION_KEYS": old_env["AUTH_KEY_ENCRYPTION_KEY"],
    }
    resealed = run(rotating, "keys", "reseal")
    assert resealed.returncode == 0, resealed.stderr
    assert resealed.stdout.splitlines() == [
        "auth-service: 2 signing key(s) resealed under the newest key-encryption key "
        "(2 were sealed with a previous one), with 0 second-factor secret(s) and 0 queued mail(s)",
        "auth-service: AUTH_PREVIOUS_KEY_ENCRYPTION_KEYS can now be emptied",
    ]
    stale = run(old_env, "keys", "reseal")  # the old KEK alone opens nothing any more
    assert stale.returncode == 2
    assert "does not open with any configured key-encryption key" in stale.stderr
    assert "nothing was resealed" in stale.stderr
    new_only = {**old_env, "AUTH_KEY_ENCRYPTION_KEY": new_kek_text}
    again = run(new_only, "keys", "reseal")
    assert "2 signing key(s) resealed" in again.stdout
    assert "(0 were sealed with a previous one)" in again.stdout
    with serving(make_settings(key_encryption_key=new_kek_text)) as auth:  # the old KEK is gone
        assert auth.http.get("/readyz").status_code == 200
        auth.create_user("ops@example.com", "a sturdy operator passphrase", ["agent"])
        token = auth.login("ops@example.com", "a sturdy operator passphrase")["access_token"]
        assert claims_of(token)["roles"] == ["agent"]
    audited = await _sql(auth_db, "SELECT actor FROM audit_events WHERE action = $1", "key.reseal")
    assert [a["actor"] for a in audited] == ["operator", "operator"]


def test_serve_without_a_kek_is_one_clear_line(auth_db: str) -> None:
    env = {"AUTH_DATABASE_URL": auth_db, "AUTH_KEY_ENCRYPTION_KEY": "", "AUTH_KEY_ENCRYPTION_KEY_FILE": ""}
    result = run(env, "serve")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "auth-service: no key-encryption key: set AUTH_KEY_ENCRYPTION_KEY or AUTH_KEY_ENCRYPTION_KEY_FILE"
    )


BREAK_ADMINISTRATION = """
UPDATE roles SET scopes = ARRAY['customers:read'] WHERE name = 'admin';
UPDATE users SET status = 'disabled';
"""


async def _sql(database_url: str, statement: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        if args:
            return await conn.fetch(statement, *args)
        await conn.execute(statement)
        return []
    finally:
        await conn.close()


# A passkey the admin can no longer present (the recovery removes it with the other factors).
LOST_SECURITY_KEY = """
INSERT INTO passkeys (user_id, credential_id, public_key, sign_count, aaguid, backup_eligible, backed_up,
                      name)
SELECT id, '\\x01'::bytea, '\\x02'::bytea, 0, gen_random_uuid(), false, false, 'Lost key'
FROM users WHERE email = $1
RETURNING id
"""
BOSS_PASSKEYS = "SELECT count(*) AS n FROM passkeys p JOIN users u ON u.id = p.user_id WHERE u.email = $1"


def _recovered_password(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout.split("(shown once): ")[1].split()[0]


async def test_recover_admin_restores_the_role_the_account_and_nothing_else(
    make_settings: SettingsFactory, auth_db: str, redis_url: str, redis_namespace: str, tmp_path: Path
) -> None:
    settings = make_settings()
    credentials = tmp_path / "recovered.txt"
    env = cli_env(
        auth_db,
        redis_url,
        redis_namespace,
        AUTH_REDIS_PREFIX=settings.redis.redis_prefix,  # the app's deny-list: its tokens are denied
        AUTH_BOOTSTRAP_ADMIN_EMAIL="boss@example.com",
        AUTH_BOOTSTRAP_ADMIN_PASSWORD="a sturdy operator passphrase",
    )
    assert run(env, "users", "bootstrap-admin").returncode == 0
    with serving(settings) as auth:
        old = auth.admin_login("boss@example.com", "a sturdy operator passphrase")
    await _sql(auth_db, LOST_SECURITY_KEY, "boss@example.com")
    assert (await _sql(auth_db, BOSS_PASSKEYS, "boss@example.com"))[0]["n"] == 1
    await _sql(auth_db, BREAK_ADMINISTRATION)  # by hand: the API would refuse both
    refused = run(env, "users", "bootstrap-admin")
    assert refused.returncode == 1
    assert "use `users recover-admin --email boss@example.com`" in refused.stderr
    recovered = run(
        {**env, "AUTH_BOOTSTRAP_CREDENTIALS_FILE": str(credentials)},
        "users",
        "recover-admin",
        "--email",
        "Boss@EXAMPLE.com",
    )
    password = _recovered_password(recovered)
    assert "restored admin boss@example.com" in recovered.stdout
    assert credentials.read_text() == f"email=boss@example.com\npassword={password}\n"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    scopes = await _sql(auth_db, "SELECT scopes FROM roles WHERE name = $1", "admin")
    assert scopes[0]["scopes"] == sorted(
        ADMIN_SCOPES | {"customers:read", "customers:write", "customers:delete"}
    )
    assert (await _sql(auth_db, BOSS_PASSKEYS, "boss@example.com"))[0]["n"] == 0  # the next login sets one up
    with serving(settings) as auth:
        refresh = {
            "grant_type": "refresh_token",
            "client_id": "first-party",
            "refresh_token": old["refresh_token"],
        }
        assert auth.token(refresh).status_code == 400  # the old session ended
        assert auth.http.get("/api/1/users/me", headers=auth.bearer(old["access_token"])).status_code == 401
        assert (
            auth.token(password_form("boss@example.com", "a sturdy operator passphrase")).status_code == 400
        )
        token = auth.admin_login("boss@example.com", password)
        users = auth.http.get("/api/1/admin/users/", headers=auth.bearer(token["access_token"]))
        assert users.status_code == 200
        assert [u["status"] for u in users.json()["items"]] == ["active"]
    audited = await _sql(
        auth_db, "SELECT actor, target_id, details FROM audit_events WHERE action = $1", "user.recover_admin"
    )
    assert [(a["actor"], a["target_id"]) for a in audited] == [("operator", users.json()["items"][0]["id"])]
    assert json.loads(audited[0]["details"])["created"] is False
    again = run(env, "users", "bootstrap-admin")
    assert "already exists; nothing to do" in again.stdout


async def test_recover_admin_recreates_a_deleted_admin_role_and_a_new_account(
    make_settings: SettingsFactory, auth_db: str, redis_url: str, redis_namespace: str
) -> None:
    env = cli_env(auth_db, redis_url, redis_namespace)
    await _sql(auth_db, "DELETE FROM roles WHERE name = 'admin'")
    recovered = run(env, "users", "recover-admin", "--email", "ops@example.com")
    password = _recovered_password(recovered)
    assert "created admin ops@example.com" in recovered.stdout
    mfa = await _sql(auth_db, "SELECT requires_mfa FROM roles WHERE name = $1", "admin")
    assert mfa[0]["requires_mfa"] is True  # as the seeded role: PCI DSS 8.4 wants MFA for admins
    with serving(make_settings()) as auth:
        claims = claims_of(auth.admin_login("ops@example.com", password)["access_token"])
        assert claims["roles"] == ["admin"]
        assert set(claims["scope"].split()) >= ADMIN_SCOPES
    second = run(env, "users", "recover-admin", "--email", "ops@example.com")
    assert _recovered_password(second) != password  # every recovery sets a new password
    assert "restored admin ops@example.com" in second.stdout


def test_recover_admin_refuses_what_is_not_an_email(
    auth_db: str, redis_url: str, redis_namespace: str
) -> None:
    env = cli_env(auth_db, redis_url, redis_namespace)
    refused = run(env, "users", "recover-admin", "--email", "not-an-email")
    assert refused.returncode == 1
    assert refused.stderr.startswith("auth-service: admin not recovered: ")
    assert run(env, "users", "recover-admin").returncode == 2  # --email is required


async def test_bootstrap_admin_counts_whoever_holds_every_admin_scope(
    auth_db: str, redis_url: str, redis_namespace: str
) -> None:
    """Idempotence asks "can someone administer everything?", not "does someone hold `admin`?"."""
    env = cli_env(auth_db, redis_url, redis_namespace, AUTH_BOOTSTRAP_ADMIN_EMAIL="first@example.com")
    assert run(env, "users", "bootstrap-admin").returncode == 0
    await _sql(
        auth_db,
        "INSERT INTO roles (name, scopes) SELECT 'root', scopes FROM roles WHERE name = 'admin';"
        "UPDATE user_roles SET role_id = (SELECT id FROM roles WHERE name = 'root');",
    )
    again = run({**env, "AUTH_BOOTSTRAP_ADMIN_EMAIL": "second@example.com"}, "users", "bootstrap-admin")
    assert "already exists; nothing to do" in again.stdout
    await _sql(auth_db, "UPDATE roles SET scopes = array_remove(scopes, 'admin:audit') WHERE name = 'root'")
    third = run({**env, "AUTH_BOOTSTRAP_ADMIN_EMAIL": "third@example.com"}, "users", "bootstrap-admin")
    assert "created admin third@example.com" in third.stdout
