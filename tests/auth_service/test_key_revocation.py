"""Emergency key revocation: the key stops signing and leaves the JWKS at once, its tokens are refused.

The issue's case: on suspected key compromise the only advice was to rotate, which kept the
compromised key signing through the pre-publication hour and published for its tokens' lifetime.
Now ``POST /api/1/admin/keys/{kid}/revoke`` (or ``keys revoke KID``) replaces it in one transaction,
records the ``kid`` revocation for every verifier and audits it.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import jwt

from auth_service.audit.service import Actor
from auth_service.powers.service import ADMIN_USERS, AUTH_RESOURCE, OPERATOR_ID
from auth_service.roles.schemas import RoleCreate
from auth_service.users.schemas import UserCreate
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    SYSTEM,
    AuthClient,
    SettingsFactory,
    basic,
    serving,
)
from tests.auth_service.test_cli import cli_env, run
from tests.auth_service.test_refresh_and_revocation import introspect
from tests.auth_service.test_signing_keys import kid_of, kids, wait_for

OPERATOR = Actor(id=OPERATOR_ID)


def revoke(auth: AuthClient, kid: str, token: str) -> Any:
    return auth.http.post(f"/api/1/admin/keys/{kid}/revoke", headers=auth.bearer(token))


def admin_token(auth: AuthClient) -> str:
    token: str = auth.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]
    return token


async def _fetch(database_url: str, statement: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return list(await conn.fetch(statement, *args))
    finally:
        await conn.close()


def fetch(auth: AuthClient, database_url: str, statement: str, *args: object) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = auth.call(_fetch, database_url, statement, *args)
    return rows


def verifies_against_jwks(auth: AuthClient, token: str) -> dict[str, Any]:
    """What any resource server does: pick the key by ``kid`` from the published JWKS."""
    jwks = {k["kid"]: k for k in auth.http.get("/.well-known/jwks.json").json()["keys"]}
    key = jwt.PyJWK(jwks[kid_of(token)]).key
    claims: dict[str, Any] = jwt.decode(
        token, key, algorithms=["RS256"], audience=AUTH_RESOURCE, issuer="http://auth.test"
    )
    return claims


def test_revoking_a_key_needs_admin_keys_and_an_existing_kid(seeded: AuthClient) -> None:
    [kid] = kids(seeded)
    assert seeded.http.post(f"/api/1/admin/keys/{kid}/revoke").status_code == 401
    seeded.call(seeded.services.roles.create, RoleCreate("user-admin", [ADMIN_USERS]), OPERATOR)
    seeded.call(
        seeded.services.users.create,
        UserCreate("users@example.com", ADMIN_PASSWORD, ["user-admin"]),
        OPERATOR,
    )
    refused = revoke(seeded, kid, seeded.admin_login("users@example.com", ADMIN_PASSWORD)["access_token"])
    assert refused.status_code == 403, refused.text
    assert 'scope="admin:keys"' in refused.headers["www-authenticate"]
    unknown = revoke(seeded, "no-such-kid", admin_token(seeded))
    assert unknown.status_code == 404, unknown.text
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["detail"] == "No signing key with this identifier."
    assert kids(seeded) == [kid]  # nothing happened


def test_revoking_the_active_key_replaces_it_at_once_everywhere_on_this_replica(
    seeded: AuthClient, auth_db: str
) -> None:
    introspector = seeded.create_client(client_name="customers", resource_server="customers")
    as_customers = basic(introspector.client_id, introspector.client_secret or "")
    admin = admin_token(seeded)
    old_kid = kid_of(admin)
    own_api = seeded.admin_login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]
    for_customers = seeded.login(AGENT_EMAIL, AGENT_PASSWORD, resource="customers")["access_token"]

    revoked = revoke(seeded, old_kid, admin)

    assert revoked.status_code == 200, revoked.text
    body = revoked.json()
    new_kid = body["active"]
    assert body["revoked"] == old_kid
    assert new_kid not in (None, old_kid)
    assert body["already_revoked"] is False
    states = {k["kid"]: (k["state"], k["revoked_at"] is not None) for k in body["keys"]}
    assert states == {old_kid: ("revoked", True), new_kid: ("active", False)}
    # unpublished right away, and a new key signs right away (no pre-publication wait)
    assert kids(seeded) == [new_kid]
    fresh = seeded.admin_login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]
    assert kid_of(fresh) == new_kid
    assert verifies_against_jwks(seeded, fresh)["sub"]
    assert seeded.http.get("/api/1/users/me", headers=seeded.bearer(fresh)).status_code == 200
    # the revoked key's tokens: refused by this service's API and inactive at introspection
    assert seeded.http.get("/api/1/users/me", headers=seeded.bearer(own_api)).status_code == 401
    assert introspect(seeded, for_customers, as_customers) == {"active": False}
    new_for_customers = seeded.login(AGENT_EMAIL, AGENT_PASSWORD, resource="customers")["access_token"]
    assert introspect(seeded, new_for_customers, as_customers)["active"] is True
    # recorded for the verifiers (the outbox), and audited, in the same transaction
    outbox = fetch(
        seeded, auth_db, "SELECT value, expires_at > now() AS live FROM revocations WHERE kind = 'kid'"
    )
    assert [(r["value"], r["live"]) for r in outbox] == [(old_kid, True)]
    audited = fetch(
        seeded, auth_db, "SELECT actor, target_id, details FROM audit_events WHERE action = 'key.revoke'"
    )
    assert [(a["actor"], a["target_id"]) for a in audited] == [(claims_sub(admin), old_kid)]
    assert json.loads(audited[0]["details"]) == {"state": "active", "active": new_kid}


def claims_sub(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


def test_revoking_a_revoked_key_changes_nothing_and_says_so(seeded: AuthClient, auth_db: str) -> None:
    admin = admin_token(seeded)
    old_kid = kid_of(admin)
    first = revoke(seeded, old_kid, admin).json()
    again = revoke(seeded, old_kid, admin_token(seeded))
    assert again.status_code == 200, again.text
    assert again.json()["already_revoked"] is True
    assert again.json()["active"] == first["active"]
    assert again.json()["revoked_at"] == first["revoked_at"]
    assert kids(seeded) == [first["active"]]
    counts = fetch(
        seeded,
        auth_db,
        "SELECT (SELECT count(*) FROM revocations WHERE kind = 'kid') AS outbox,"
        " (SELECT count(*) FROM audit_events WHERE action = 'key.revoke') AS audited",
    )
    assert (counts[0]["outbox"], counts[0]["audited"]) == (1, 1)


def test_the_published_next_key_takes_over_when_the_active_one_is_revoked(seeded: AuthClient) -> None:
    admin = admin_token(seeded)
    old_kid = kid_of(admin)
    pending = seeded.call(seeded.services.signing_keys.rotate, SYSTEM).pending  # signs in an hour
    revoked = revoke(seeded, old_kid, admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] == pending
    assert kids(seeded) == [pending]
    assert kid_of(admin_token(seeded)) == pending


def test_rotation_never_brings_a_revoked_key_back_and_removes_it_when_its_tokens_expired(
    seeded: AuthClient, auth_db: str
) -> None:
    admin = admin_token(seeded)
    active = kid_of(admin)
    pending = seeded.call(seeded.services.signing_keys.rotate, SYSTEM).pending
    assert revoke(seeded, pending, admin).json()["active"] == active  # a next key: nothing to replace
    assert kids(seeded) == [active]
    # its pre-publication is over: were it still `next`, this step would make it sign
    fetch(seeded, auth_db, "UPDATE signing_keys SET activate_at = now() - interval '1 day'")
    seeded.call(seeded.services.signing_keys.sync)
    assert kids(seeded) == [active]
    assert kid_of(admin_token(seeded)) == active
    states = fetch(seeded, auth_db, "SELECT kid, state FROM signing_keys ORDER BY created_at")
    assert [(r["kid"], r["state"]) for r in states] == [(active, "active"), (pending, "revoked")]
    fetch(seeded, auth_db, "UPDATE signing_keys SET remove_at = now() WHERE state = 'revoked'")
    seeded.call(seeded.services.signing_keys.sync)
    assert [r["kid"] for r in fetch(seeded, auth_db, "SELECT kid FROM signing_keys")] == [active]
    audited = fetch(seeded, auth_db, "SELECT target_id FROM audit_events WHERE action = 'key.revoke'")
    assert [a["target_id"] for a in audited] == [pending]  # the trail outlives the key


def test_tokens_checked_before_the_revocation_are_refused_after_it(seeded: AuthClient) -> None:
    """The bearer verifier caches verified tokens: the revocation must reach that cache too."""
    admin = admin_token(seeded)
    agent = seeded.admin_login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]
    assert seeded.http.get("/api/1/users/me", headers=seeded.bearer(agent)).status_code == 200
    assert revoke(seeded, kid_of(admin), admin).status_code == 200
    wait_for(
        lambda: seeded.http.get("/api/1/users/me", headers=seeded.bearer(agent)).status_code == 401,
        timeout=3,
    )


def test_another_replica_reloads_on_the_revocation_event(make_settings: SettingsFactory) -> None:
    settings = make_settings(key_refresh_interval=600)  # no periodic refresh during the test
    with serving(settings) as first, serving(settings) as second:
        first.create_user(ADMIN_EMAIL, ADMIN_PASSWORD, ["admin"])
        admin = admin_token(first)
        old_kid = kid_of(admin)
        new_kid = revoke(first, old_kid, admin).json()["active"]
        second.call(second.services.signing_keys.reload, old_kid)  # what the feed's kid event does
        assert old_kid not in kids(second)  # dropped at once, before any database read
        wait_for(lambda: kids(second) == [new_kid] and kid_of(admin_token(second)) == new_kid, timeout=3)


def test_keys_revoke_from_the_command_line(
    make_settings: SettingsFactory, auth_db: str, redis_url: str, redis_namespace: str
) -> None:
    env = cli_env(auth_db, redis_url, redis_namespace)
    settings = make_settings(key_encryption_key=env["AUTH_KEY_ENCRYPTION_KEY"], key_refresh_interval=0.2)
    with serving(settings) as auth:
        auth.create_user(ADMIN_EMAIL, ADMIN_PASSWORD, ["admin"])
        old_kid = kid_of(admin_token(auth))
        unknown = run(env, "keys", "revoke", "no-such-kid")
        assert unknown.returncode == 1
        assert unknown.stderr.strip() == "auth-service: no signing key no-such-kid"

        done = run(env, "keys", "revoke", old_kid)

        assert done.returncode == 0, done.stderr
        assert f"key {old_kid} revoked at " in done.stdout
        new_kid = done.stdout.split("key ")[-1].split()[0]
        assert done.stdout.strip().endswith(f"key {new_kid} signs now")
        # the running replica follows (here through its periodic refresh)
        wait_for(lambda: kids(auth) == [new_kid] and kid_of(admin_token(auth)) == new_kid, timeout=3)
        again = run(env, "keys", "revoke", old_kid)
        assert again.returncode == 0, again.stderr
        assert "was already revoked" in again.stdout
        audited = fetch(
            auth, auth_db, "SELECT actor, target_id FROM audit_events WHERE action = 'key.revoke'"
        )
        assert [(a["actor"], a["target_id"]) for a in audited] == [("operator", old_kid)]
