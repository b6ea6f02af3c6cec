"""The ``/device`` pages: behind the login, the code form, the confirmation, the answer, the limits."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from auth_service.oidc.assurance import ACR_ONE_FACTOR, AMR_PASSWORD
from auth_service.random_secrets import digest
from auth_service.throttling.limits import DEVICE_CODE_ATTEMPTS
from tests.auth_service.conftest import AGENT_EMAIL, AuthClient

CLI = "auth-cli"
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def start(auth: AuthClient, **form: str) -> dict[str, Any]:
    response = auth.http.post("/oauth/device_authorization", data={"client_id": CLI, **form})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def log_in(auth: AuthClient) -> UUID:
    """A live browser session of the agent, its cookie in the test client (as the login page sets it)."""

    async def run() -> tuple[UUID, str]:
        async with auth.services.pool.acquire() as conn:
            user_id: UUID = await conn.fetchval("SELECT id FROM users WHERE email = $1", AGENT_EMAIL)
        session, secret = await auth.services.browser.browser_sessions.start(
            user_id, amr=[AMR_PASSWORD], acr=ACR_ONE_FACTOR, source_ip=None, user_agent=None, replacing=None
        )
        return session.id, secret

    session_id, secret = auth.call(run)
    auth.http.cookies.set(auth.services.browser.session_cookie.name, secret)
    return UUID(str(session_id))


def row(auth: AuthClient, auth_db: str, device_code: str) -> asyncpg.Record:
    async def run() -> asyncpg.Record:
        conn = await asyncpg.connect(auth_db)
        try:
            found = await conn.fetchrow(
                "SELECT status, user_id, browser_session_id, granted_scope, amr, acr"
                " FROM device_authorizations WHERE device_digest = $1",
                digest(device_code),
            )
            assert found is not None
            return found
        finally:
            await conn.close()

    result: asyncpg.Record = auth.call(run)
    return result


def confirm(auth: AuthClient, user_code: str, action: str) -> Any:
    page = auth.http.get("/device", params={"user_code": user_code})
    assert page.status_code == 200, page.text
    token = CSRF.search(page.text)
    assert token is not None
    return auth.http.post(
        "/device", data={"user_code": user_code, "action": action, "_csrf_token": token.group(1)}
    )


@pytest.mark.parametrize(
    ("query", "return_to"),
    [
        ("", "%2Fdevice"),
        ("?user_code=bcdf-ghjk", "%2Fdevice%3Fuser_code%3DBCDF-GHJK"),
        ("?user_code=https://evil.example/", "%2Fdevice"),  # only a code of ours travels
    ],
)
def test_without_a_session_the_page_sends_to_the_login(auth: AuthClient, query: str, return_to: str) -> None:
    response = auth.http.get(f"/device{query}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?return_to={return_to}"
    assert response.headers["x-frame-options"] == "DENY"


def test_the_code_form_and_a_wrong_code(seeded: AuthClient) -> None:
    log_in(seeded)
    form = seeded.http.get("/device")
    assert form.status_code == 200
    assert 'name="user_code"' in form.text
    assert 'for="user_code"' in form.text  # labelled
    assert "frame-ancestors 'none'" in form.headers["content-security-policy"]
    assert form.headers["cache-control"] == "no-store"
    wrong = seeded.http.get("/device", params={"user_code": "BCDF-GHJK"})
    assert wrong.status_code == 400
    assert "not valid or has expired" in wrong.text
    assert 'aria-invalid="true"' in wrong.text


def test_the_confirmation_names_the_app_the_code_and_the_scopes(seeded: AuthClient) -> None:
    started = start(seeded, scope="openid customers:read")
    log_in(seeded)
    page = seeded.http.get("/device", params={"user_code": started["user_code"].lower()})
    assert page.status_code == 200, page.text
    assert "Command line (auth-service login)" in page.text
    assert started["user_code"] in page.text
    assert "customers:read" in page.text
    assert "Only allow this if you started the sign-in yourself" in page.text
    assert AGENT_EMAIL in page.text
    pt = seeded.http.get(
        "/device", params={"user_code": started["user_code"]}, headers={"Accept-Language": "pt-BR"}
    )
    assert "Permitir este dispositivo?" in pt.text
    assert pt.headers["content-language"] == "pt-BR"


def test_allowing_records_the_login_and_the_grant(seeded: AuthClient, auth_db: str) -> None:
    started = start(seeded, scope="openid customers:read customers:delete")
    session_id = log_in(seeded)
    done = confirm(seeded, started["user_code"], "allow")
    assert done.status_code == 200, done.text
    assert "Device connected" in done.text
    stored = row(seeded, auth_db, started["device_code"])
    assert stored["status"] == "approved"
    assert stored["browser_session_id"] == session_id
    assert stored["granted_scope"] == "customers:read openid"  # the agent has no customers:delete
    assert (stored["amr"], stored["acr"]) == (["pwd"], "1")
    again = confirm_without_page(seeded, started["user_code"], "deny")
    assert again.status_code == 400
    assert "This request is over" in again.text


def confirm_without_page(auth: AuthClient, user_code: str, action: str) -> Any:
    """A POST with a valid CSRF token (double submit: the cookie's) without the confirmation page."""
    auth.http.get("/device", follow_redirects=False)
    token = auth.http.cookies["csrf"]
    return auth.http.post("/device", data={"user_code": user_code, "action": action, "_csrf_token": token})


def test_denying(seeded: AuthClient, auth_db: str) -> None:
    started = start(seeded)
    log_in(seeded)
    denied = confirm(seeded, started["user_code"], "deny")
    assert denied.status_code == 200
    assert "Device not connected" in denied.text
    assert row(seeded, auth_db, started["device_code"])["status"] == "denied"


def test_an_answer_without_the_csrf_token_is_refused(seeded: AuthClient, auth_db: str) -> None:
    started = start(seeded)
    log_in(seeded)
    seeded.http.get("/device")  # the CSRF cookie is set; the forged form has no token
    forged = seeded.http.post("/device", data={"user_code": started["user_code"], "action": "allow"})
    assert forged.status_code == 403
    assert row(seeded, auth_db, started["device_code"])["status"] == "pending"


def test_an_answer_without_a_session_goes_to_the_login(seeded: AuthClient, auth_db: str) -> None:
    started = start(seeded)
    code = started["user_code"]
    response = confirm_without_page(seeded, code, "allow")  # follows to the login page
    assert response.history[0].status_code == 303
    assert response.history[0].headers["location"].startswith("/login?return_to=%2Fdevice%3Fuser_code%3D")
    assert row(seeded, auth_db, started["device_code"])["status"] == "pending"


def test_codes_tried_are_limited_per_address(seeded: AuthClient) -> None:
    log_in(seeded)
    for _ in range(DEVICE_CODE_ATTEMPTS):
        assert seeded.http.get("/device", params={"user_code": "BCDF-GHJK"}).status_code == 400
    started = start(seeded)
    refused = seeded.http.get("/device", params={"user_code": started["user_code"]})
    assert refused.status_code == 429  # even the right code, once over the limit
    assert int(refused.headers["retry-after"]) > 0
    assert "Too many attempts" in refused.text
