"""The device code grant at ``/oauth/token`` (RFC 8628 section 3.4-3.5): each answer of a poll.

The person's approval goes through the service the ``/device`` page calls (the page itself is
tested in ``test_device_pages.py``); everything the device sees goes over HTTP.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import asyncpg
import jwt
import pytest

from auth_service.oidc.assurance import ACR_ONE_FACTOR, AMR_PASSWORD
from auth_service.random_secrets import digest
from tests.auth_service.conftest import AGENT_EMAIL, AuthClient

CLI = "auth-cli"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def start(auth: AuthClient, **form: str) -> dict[str, Any]:
    response = auth.http.post("/oauth/device_authorization", data={"client_id": CLI, **form})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def poll(auth: AuthClient, device_code: str, client_id: str = CLI) -> Any:
    return auth.token({"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id})


def agent_id(auth: AuthClient) -> UUID:
    async def run() -> UUID:
        async with auth.services.pool.acquire() as conn:
            value: UUID = await conn.fetchval("SELECT id FROM users WHERE email = $1", AGENT_EMAIL)
        return value

    result: UUID = auth.call(run)
    return result


def answer(auth: AuthClient, user_code: str, *, allow: bool, user: UUID) -> bool:
    async def run() -> bool:
        device = auth.services.browser.device
        pending = await device.find(user_code, "192.0.2.1")
        assert pending is not None
        if not allow:
            return await device.deny(pending, user_id=user, source_ip="192.0.2.1")
        return await device.approve(
            pending,
            user_id=user,
            browser_session_id=None,
            auth_time=1_700_000_000,
            amr=[AMR_PASSWORD],
            acr=ACR_ONE_FACTOR,
            source_ip="192.0.2.1",
        )

    result: bool = auth.call(run)
    return result


def set_row(auth_db: str, device_code: str, assignment: str) -> None:
    """Move a row in time (the interval or the expiry) instead of sleeping."""

    async def run() -> None:
        conn = await asyncpg.connect(auth_db)
        try:
            await conn.execute(
                f"UPDATE device_authorizations SET {assignment} WHERE device_digest = $1",
                digest(device_code),
            )
        finally:
            await conn.close()

    asyncio.run(run())


def error_of(response: Any) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["cache-control"] == "no-store"
    return str(response.json()["error"])


def test_pending_then_slow_down_then_tokens_once(seeded: AuthClient, auth_db: str) -> None:
    started = start(seeded, scope="openid customers:read")
    code = started["device_code"]
    assert error_of(poll(seeded, code)) == "authorization_pending"
    assert error_of(poll(seeded, code)) == "slow_down"  # again at once
    set_row(auth_db, code, "last_polled_at = now() - interval '6 seconds'")
    assert error_of(poll(seeded, code)) == "slow_down"  # the interval grew to 10 s (and now 15 s)
    set_row(auth_db, code, "last_polled_at = now() - interval '14 seconds'")
    assert error_of(poll(seeded, code)) == "authorization_pending"
    assert answer(seeded, started["user_code"], allow=True, user=agent_id(seeded))
    set_row(auth_db, code, "last_polled_at = now() - interval '14 seconds'")
    issued = poll(seeded, code)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["scope"] == "customers:read openid"
    assert "refresh_token" in body
    assert "id_token" in body
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (claims["client_id"], claims["aud"]) == (CLI, "customers")
    id_claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert (id_claims["aud"], id_claims["auth_time"], id_claims["amr"]) == (CLI, 1_700_000_000, ["pwd"])
    set_row(auth_db, code, "last_polled_at = now() - interval '1 hour'")
    assert error_of(poll(seeded, code)) == "invalid_grant"  # claimed once


def test_the_grant_drops_what_the_persons_roles_do_not_give(seeded: AuthClient, auth_db: str) -> None:
    started = start(seeded, scope="customers:read customers:delete")
    assert answer(seeded, started["user_code"], allow=True, user=agent_id(seeded))
    body = poll(seeded, started["device_code"]).json()
    agent_scopes = set(jwt.decode(body["access_token"], options={"verify_signature": False})["scope"].split())
    assert "customers:read" in agent_scopes
    assert "customers:delete" not in agent_scopes  # the agent role lacks it


def test_a_denied_request_is_access_denied(seeded: AuthClient) -> None:
    started = start(seeded)
    assert answer(seeded, started["user_code"], allow=False, user=agent_id(seeded))
    assert error_of(poll(seeded, started["device_code"])) == "access_denied"
    assert (
        seeded.call(seeded.services.browser.device.find, started["user_code"], None) is None
    )  # answered once


def test_an_expired_code_is_expired_token(seeded: AuthClient, auth_db: str) -> None:
    started = start(seeded)
    assert answer(seeded, started["user_code"], allow=True, user=agent_id(seeded))
    set_row(auth_db, started["device_code"], "expires_at = now() - interval '1 second'")
    assert error_of(poll(seeded, started["device_code"])) == "expired_token"


def test_a_code_of_another_client_is_invalid_grant_and_left_alone(seeded: AuthClient) -> None:
    started = start(seeded)
    other = seeded.create_client(
        client_name="other device app",
        grant_types=[DEVICE_GRANT],
        token_endpoint_auth_method="none",
        scope="customers:read",
    )
    assert answer(seeded, started["user_code"], allow=True, user=agent_id(seeded))
    assert error_of(poll(seeded, started["device_code"], client_id=other.client_id)) == "invalid_grant"
    assert poll(seeded, started["device_code"]).status_code == 200  # still the right client's


@pytest.mark.parametrize("device_code", ["", "not-a-code"])
def test_unknown_or_missing_device_codes(auth: AuthClient, device_code: str) -> None:
    expected = "invalid_request" if device_code == "" else "invalid_grant"
    assert error_of(poll(auth, device_code)) == expected


def test_a_disabled_account_gets_nothing(seeded: AuthClient, auth_db: str) -> None:
    started = start(seeded)
    user = agent_id(seeded)
    assert answer(seeded, started["user_code"], allow=True, user=user)

    async def disable() -> None:
        async with seeded.services.pool.acquire() as conn:
            await conn.execute("UPDATE users SET status = 'disabled' WHERE id = $1", user)

    seeded.call(disable)
    assert error_of(poll(seeded, started["device_code"])) == "invalid_grant"
