"""The two real services together: tokens from the auth service open the customer API by role,
key rotation needs no restart of the resource server, and the auth service going away does not
stop valid tokens from working."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import EcosystemStarter
from tests.ecosystem import Ecosystem

pytestmark = pytest.mark.e2e

AGENT = ("agent@example.com", "lighthouse keeper marmalade 7")
VIEWER = ("viewer@example.com", "quiet orchard bicycle lantern 3")
CUSTOMER = {
    "cpf": "529.982.247-25",
    "email": "maria@example.com.br",
    "name": "Maria Conceição",
    "phoneNumber": "(11) 98765-4321",
    "city": "São Paulo",
    "state": "SP",
    "country": "BR",
    "salary": "8500.00",
    "birthdate": "1985-04-12",
}


@pytest.fixture(scope="module")
def ecosystem(start_ecosystem: EcosystemStarter) -> Iterator[Ecosystem]:
    with start_ecosystem(
        "eco",
        auth_extra={
            "AUTH_JWKS_MAX_AGE": "5",
            "AUTH_KEY_PREPUBLISH_SECONDS": "6",
            "AUTH_KEY_REFRESH_INTERVAL": "0.5",
        },
        customer_extra={"CUSTOMER_JWKS_UNKNOWN_KID_INTERVAL": "1"},
    ) as system:
        system.create_user(*AGENT, roles=["agent"])
        system.create_user(*VIEWER, roles=["viewer"])
        yield system


def api(system: Ecosystem, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=system.customers.url + "/api/1/customers",
        timeout=30,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_roles_decide_what_each_user_may_do(ecosystem: Ecosystem) -> None:
    admin, agent, viewer = ecosystem.admin_token(), ecosystem.token(*AGENT), ecosystem.token(*VIEWER)
    with (
        api(ecosystem, admin) as as_admin,
        api(ecosystem, agent) as as_agent,
        api(ecosystem, viewer) as as_viewer,
    ):
        created = as_agent.post("", json=CUSTOMER)
        assert created.status_code == 201, created.text
        assert created.headers["location"].endswith("/api/1/customers/52998224725")
        etag = created.headers["etag"]

        assert as_viewer.get("/52998224725").json()["phoneNumber"] == "+5511987654321"
        denied = as_viewer.post("", json={**CUSTOMER, "cpf": "11144477735"})
        assert denied.status_code == 403
        assert 'scope="customers:write"' in denied.headers["www-authenticate"]

        updated = as_agent.patch(
            "/52998224725",
            content=b'{"city": "Campinas"}',
            headers={"Content-Type": "application/merge-patch+json", "If-Match": etag},
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["city"] == "Campinas"

        assert (
            as_agent.delete("/52998224725", headers={"If-Match": updated.headers["etag"]}).status_code == 403
        )
        assert as_viewer.delete("/52998224725").status_code == 403
        # The admin may delete, but only after a login with a second factor (RFC 9470 step-up):
        # the password grant is one factor, and the customer service sees it in the real token.
        refused = as_admin.delete("/52998224725", headers={"If-Match": updated.headers["etag"]})
        assert refused.status_code == 401, refused.text
        challenge = refused.headers["www-authenticate"]
        assert 'error="insufficient_user_authentication"' in challenge
        assert challenge.endswith('acr_values="2"')
        assert as_viewer.get("/52998224725").status_code == 200


def test_narrowed_scope_is_enforced(ecosystem: Ecosystem) -> None:
    read_only = ecosystem.token(*AGENT, scope="customers:read")
    with api(ecosystem, read_only) as client:
        assert client.get("", params={"limit": 5}).status_code == 200
        assert client.post("", json={**CUSTOMER, "cpf": "11144477735"}).status_code == 403


def test_a_revoked_token_is_refused_by_the_customer_service(ecosystem: Ecosystem) -> None:
    """Revocation checking is on by default: the revocation reaches the customer service through
    the stream within seconds, and the token is refused there as revoked (it used to stay accepted
    until it expired)."""
    token = ecosystem.token(*VIEWER)
    with api(ecosystem, token) as client:
        assert client.get("", params={"limit": 1}).status_code == 200
        revoked = httpx.post(
            ecosystem.auth.url + "/oauth/revoke", data={"token": token, "client_id": "first-party"}
        )
        assert revoked.status_code == 200
        deadline = time.monotonic() + 10
        answer = client.get("", params={"limit": 1})
        while answer.status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.05)
            answer = client.get("", params={"limit": 1})
        assert answer.status_code == 401
        assert 'error="invalid_token"' in answer.headers["www-authenticate"]
        assert "revoked" in answer.headers["www-authenticate"]


def test_key_rotation_needs_no_restart(ecosystem: Ecosystem) -> None:
    before = ecosystem.token(*VIEWER)
    old_kid = _kid(before)
    rotated = httpx.post(
        ecosystem.auth.url + "/api/1/admin/keys/rotate",
        timeout=30,
        headers={"Authorization": f"Bearer {ecosystem.admin_token()}"},
    )
    assert rotated.status_code in (200, 201, 202), rotated.text
    deadline = time.monotonic() + 30
    after = before
    while _kid(after) == old_kid and time.monotonic() < deadline:
        time.sleep(0.5)
        after = ecosystem.token(*VIEWER)
    assert _kid(after) != old_kid, "the new key never started signing"
    with api(ecosystem, before) as old_client, api(ecosystem, after) as new_client:
        assert old_client.get("", params={"limit": 1}).status_code == 200
        assert new_client.get("", params={"limit": 1}).status_code == 200


def test_valid_tokens_keep_working_while_the_auth_service_is_down(ecosystem: Ecosystem) -> None:
    token = ecosystem.token(*VIEWER)
    ecosystem.auth.kill()
    try:
        with api(ecosystem, token) as client:
            for _ in range(3):
                assert client.get("", params={"limit": 1}).status_code == 200
        assert httpx.get(ecosystem.customers.url + "/readyz").status_code == 200
    finally:
        ecosystem.auth.start()
    fresh = ecosystem.token(*VIEWER)
    with api(ecosystem, fresh) as client:
        assert client.get("", params={"limit": 1}).status_code == 200


def _kid(token: str) -> str:
    import jwt

    return str(jwt.get_unverified_header(token)["kid"])


def test_rotation_under_steady_load_has_no_401(ecosystem: Ecosystem) -> None:
    """Clients keep logging in and calling the customer API while the key rotates: the new key is
    published before it signs, so no valid token is ever refused."""
    statuses: list[int] = []
    kids: set[str] = set()
    rotated = False
    deadline = time.monotonic() + 40
    token = ecosystem.token(*VIEWER)
    first_kid = _kid(token)
    next_login = time.monotonic()
    with httpx.Client(base_url=ecosystem.customers.url + "/api/1/customers", timeout=30) as client:
        while time.monotonic() < deadline:
            if time.monotonic() >= next_login:
                token = ecosystem.token(*VIEWER)
                kids.add(_kid(token))
                next_login = time.monotonic() + 0.5
            if not rotated:
                response = httpx.post(
                    ecosystem.auth.url + "/api/1/admin/keys/rotate",
                    timeout=30,
                    headers={"Authorization": f"Bearer {ecosystem.admin_token()}"},
                )
                assert response.status_code in (200, 201, 202), response.text
                rotated = True
            statuses.append(
                client.get("", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}).status_code
            )
            if len(kids - {first_kid}) and statuses.count(200) > 50 and _kid(token) != first_kid:
                # the new key has signed tokens that were used; run a little longer, then stop
                deadline = min(deadline, time.monotonic() + 2)
    assert kids - {first_kid}, "the new key never started signing"
    assert set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
