"""Step-up on ``DELETE`` (RFC 9470): erasing a customer needs a login with a second factor.

The attack is a token with the ``customers:delete`` scope from a password-only login (or a
client's token for itself): it gets 401 with the challenge to log in again with, and the customer
stays. ``CUSTOMER_DELETE_MAX_AGE`` bounds how old that login may be; a refreshed token keeps its
login's ``auth_time``, so refreshing does not renew it.
"""

from __future__ import annotations

import time

import asyncpg
import httpx
import pytest

from tests.customer_service.conftest import ALL_SCOPES, BASE, KEY, AppFactory, bearer
from tests.customer_service.factories import cpf, customer
from tests.shared.auth.token_factory import claims

ONE = f"{BASE}/{cpf(1)}"
CHALLENGE = (
    'Bearer realm="customers", error="insufficient_user_authentication", error_description="This needs '
    'a login with a second factor (multi-factor authentication).", acr_values="2"'
)


@pytest.fixture
async def seeded(api: httpx.AsyncClient) -> httpx.AsyncClient:
    assert (await api.post(BASE, json=customer(1))).status_code == 201
    return api


async def assert_still_there(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    assert (await api.get(ONE)).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM customer_events WHERE action = 'deleted'") == 0


async def test_a_password_only_token_cannot_delete(seeded: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    response = await seeded.delete(ONE, headers=bearer(mfa=False))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/insufficient-user-authentication")
    await assert_still_there(seeded, db)


async def test_an_mfa_token_deletes(seeded: httpx.AsyncClient) -> None:
    assert (await seeded.delete(ONE, headers=bearer(mfa=True))).status_code == 204
    assert (await seeded.get(ONE)).status_code == 404


async def test_one_factor_is_still_enough_to_read_and_write(seeded: httpx.AsyncClient) -> None:
    one_factor = bearer(mfa=False)
    assert (await seeded.get(ONE, headers=one_factor)).status_code == 200
    changed = await seeded.put(ONE, json=customer(1, city="Recife"), headers={**one_factor, "If-Match": "*"})
    assert changed.status_code == 200, changed.text


async def test_a_clients_token_for_itself_cannot_delete(
    seeded: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Client credentials: ``sub`` is the client; no person logged in, so none can step up."""
    token = KEY.sign(claims(scope=ALL_SCOPES, sub="back-office", client_id="back-office", roles=None))
    response = await seeded.delete(ONE, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert 'error="insufficient_user_authentication"' in response.headers["www-authenticate"]
    await assert_still_there(seeded, db)


async def test_a_missing_scope_is_still_403(seeded: httpx.AsyncClient) -> None:
    response = await seeded.delete(ONE, headers=bearer("customers:read customers:write", mfa=True))
    assert response.status_code == 403


async def test_an_mfa_login_older_than_max_age_must_log_in_again(
    make_api: AppFactory, db: asyncpg.Connection
) -> None:
    api = await make_api(delete_max_age=300)
    assert (await api.post(BASE, json=customer(1))).status_code == 201
    stale = bearer(mfa=True, auth_time=int(time.time()) - 300 - 30 - 5)  # past max_age and the leeway
    response = await api.delete(ONE, headers=stale)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="customers", error="insufficient_user_authentication", error_description="This '
        'needs a login within the last 300 seconds.", acr_values="2", max_age="300"'
    )
    await assert_still_there(api, db)
    recent = bearer(mfa=True, auth_time=int(time.time()) - 60)
    assert (await api.delete(ONE, headers=recent)).status_code == 204


async def test_the_step_up_can_be_switched_off(make_api: AppFactory) -> None:
    api = await make_api(delete_requires_mfa=False)
    assert (await api.post(BASE, json=customer(1))).status_code == 201
    assert (await api.delete(ONE, headers=bearer(mfa=False))).status_code == 204


async def test_the_openapi_document_describes_the_challenge(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/schema/openapi.json")).json()["paths"]
    one = paths[f"{BASE}/{{cpf}}"]
    assert "insufficient_user_authentication" in one["delete"]["responses"]["401"]["description"]
    assert "insufficient_user_authentication" not in one["get"]["responses"]["401"]["description"]
