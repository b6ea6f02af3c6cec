"""``auth-service roles``: the second-factor policy per role from the command line (audited as the
operator), and ``users recover-admin`` taking away a lost phone's factor."""

from __future__ import annotations

import json

import asyncpg

from tests.auth_service.test_cli import cli_env, run


async def test_roles_list_and_set_mfa(auth_db: str, redis_url: str, redis_namespace: str) -> None:
    env = cli_env(auth_db, redis_url, redis_namespace)
    listed = run(env, "roles", "list")
    assert listed.returncode == 0, listed.stderr
    assert {r["name"]: r["requires_mfa"] for r in json.loads(listed.stdout)} == {
        "admin": True, "agent": False, "viewer": False,
    }  # fmt: skip
    changed = run(env, "roles", "set-mfa", "viewer")
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout)["requires_mfa"] is True
    assert (
        json.loads(run(env, "roles", "set-mfa", "viewer", "--not-required").stdout)["requires_mfa"] is False
    )
    missing = run(env, "roles", "set-mfa", "nobody")
    assert missing.returncode == 1
    assert "role not changed: No role with this identifier." in missing.stderr
    conn = await asyncpg.connect(auth_db)
    try:
        actors = await conn.fetch("SELECT actor FROM audit_events WHERE action = 'role.update' ORDER BY id")
    finally:
        await conn.close()
    assert [r["actor"] for r in actors] == ["operator", "operator"]


async def test_recover_admin_removes_the_second_factors(
    auth_db: str, redis_url: str, redis_namespace: str
) -> None:
    env = cli_env(auth_db, redis_url, redis_namespace, AUTH_BOOTSTRAP_ADMIN_EMAIL="boss@example.com")
    assert run(env, "users", "bootstrap-admin").returncode == 0
    conn = await asyncpg.connect(auth_db)
    try:
        user_id = await conn.fetchval("SELECT id FROM users WHERE email = 'boss@example.com'")
        await conn.execute(
            "INSERT INTO totp_credentials (user_id, sealed_secret, confirmed, confirmed_at) "
            "VALUES ($1, '\\x00', true, now())",
            user_id,
        )
        recovered = run(env, "users", "recover-admin", "--email", "boss@example.com")
        assert recovered.returncode == 0, recovered.stderr
        assert await conn.fetchval("SELECT count(*) FROM totp_credentials") == 0
    finally:
        await conn.close()
