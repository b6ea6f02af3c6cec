"""``auth-service clients create/update/list`` as an operator runs them: the same rules as the
admin API (a refused URI is one line naming why, exit status 1), audited as the operator."""

from __future__ import annotations

import json

import asyncpg

from tests.auth_service.test_cli import cli_env, run

CODE = "authorization_code"


async def test_clients_create_update_and_list_with_the_front_channel_members(
    auth_db: str, redis_url: str, redis_namespace: str
) -> None:
    env = cli_env(auth_db, redis_url, redis_namespace)
    created = run(
        env, "clients", "create", "--name", "Shop", "--client-id", "shop", "--grant-type", CODE,
        "--grant-type", "refresh_token", "--redirect-uri", "https://shop.example.com/cb",
        "--redirect-uri", "http://127.0.0.1/cb", "--post-logout-redirect-uri", "https://shop.example.com/",
        "--backchannel-logout-uri", "https://shop.example.com/bc", "--third-party",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    shop = json.loads(created.stdout)
    assert shop["client_id"] == "shop"
    assert shop["client_secret"]
    assert shop["redirect_uris"] == ["https://shop.example.com/cb", "http://127.0.0.1/cb"]
    assert (shop["response_types"], shop["first_party"]) == (["code"], False)
    assert shop["backchannel_logout_uri"] == "https://shop.example.com/bc"

    public = run(env, "clients", "create", "--name", "App", "--public", "--grant-type", CODE,
                 "--redirect-uri", "com.example.app:/cb", "--first-party")  # fmt: skip
    assert public.returncode == 0, public.stderr
    app = json.loads(public.stdout)
    assert (app["token_endpoint_auth_method"], app["client_secret"], app["first_party"]) == (
        "none",
        None,
        True,
    )

    refused = run(env, "clients", "create", "--name", "Bad", "--grant-type", CODE,
                  "--redirect-uri", "http://shop.example.com/cb")  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.startswith("auth-service: client not registered: ")
    assert "loopback" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    updated = run(env, "clients", "update", "shop", "--redirect-uri", "https://shop.example.com/cb",
                  "--backchannel-logout-uri", "", "--first-party")  # fmt: skip
    assert updated.returncode == 0, updated.stderr
    shop = json.loads(updated.stdout)
    assert (shop["redirect_uris"], shop["backchannel_logout_uri"]) == (["https://shop.example.com/cb"], None)
    assert shop["first_party"] is True
    assert "client_secret" not in shop

    listed = run(env, "clients", "list")
    assert listed.returncode == 0, listed.stderr
    by_id = {c["client_id"]: c for c in json.loads(listed.stdout)}
    assert {"shop", app["client_id"], "first-party", "auth-cli"} <= set(by_id)
    assert by_id["shop"]["first_party"] is True
    conn = await asyncpg.connect(auth_db)
    try:
        actions = [r[0] for r in await conn.fetch(
            "SELECT action FROM audit_events WHERE target_id = 'shop' AND actor = 'operator' ORDER BY id"
        )]  # fmt: skip
    finally:
        await conn.close()
    assert actions == ["client.create", "client.update"]
