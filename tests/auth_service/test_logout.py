"""RP-Initiated Logout 1.0: ``/oauth/logout`` and its confirmation, what ending a session revokes,
and the post-logout redirect checks (no open redirect)."""

from __future__ import annotations

import time
import uuid
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from tests.auth_service.conftest import AuthClient
from tests.auth_service.test_device_pages import confirm, log_in, start

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
BYE = "https://app.example/signed-out?from=auth"


@pytest.fixture
def app_client(seeded: AuthClient) -> str:
    client = seeded.create_client(
        client_name="Example app",
        grant_types=["authorization_code", "refresh_token"],
        token_endpoint_auth_method="none",
        redirect_uris=["https://app.example/callback"],
        post_logout_redirect_uris=[BYE],
        scope="customers:read",
    )
    return client.client_id


def device_tokens(auth: AuthClient) -> dict[str, Any]:
    """Tokens of a family the browser session created (the device flow approved in this browser)."""
    started = start(auth)
    assert confirm(auth, started["user_code"], "allow").status_code == 200
    issued = auth.token(
        {"grant_type": DEVICE_GRANT, "device_code": started["device_code"], "client_id": "auth-cli"}
    )
    assert issued.status_code == 200, issued.text
    body: dict[str, Any] = issued.json()
    return body


def ended_at(auth: AuthClient, auth_db: str, session_id: UUID) -> Any:
    async def run() -> Any:
        conn = await asyncpg.connect(auth_db)
        try:
            return await conn.fetchval("SELECT ended_reason FROM browser_sessions WHERE id = $1", session_id)
        finally:
            await conn.close()

    return auth.call(run)


def csrf(auth: AuthClient) -> str:
    auth.http.get("/device", follow_redirects=False)  # any page sets the CSRF cookie
    return str(auth.http.cookies["csrf"])


def test_without_a_session_logout_just_says_so(auth: AuthClient) -> None:
    page = auth.http.get("/oauth/logout")
    assert page.status_code == 200
    assert "You are signed out" in page.text
    assert page.headers["x-frame-options"] == "DENY"


def test_without_a_hint_the_person_confirms(seeded: AuthClient, app_client: str, auth_db: str) -> None:
    session_id = log_in(seeded)
    page = seeded.http.get(
        "/oauth/logout", params={"client_id": app_client, "post_logout_redirect_uri": BYE, "state": "s1"}
    )
    assert page.status_code == 200, page.text
    assert "Sign out?" in page.text
    assert "Example app asked to sign you out." in page.text
    assert 'action="/logout"' in page.text
    assert "form-action 'self' https://app.example" in page.headers["content-security-policy"]
    assert ended_at(seeded, auth_db, session_id) is None  # nothing ended by a link alone


def test_a_cross_site_post_is_a_confirmation_not_a_logout(seeded: AuthClient, auth_db: str) -> None:
    session_id = log_in(seeded)
    page = seeded.http.post("/oauth/logout", data={"state": "x"})  # no CSRF token: exempt by design
    assert page.status_code == 200
    assert "Sign out?" in page.text
    assert ended_at(seeded, auth_db, session_id) is None


def test_confirming_ends_the_session_its_families_and_the_sso(
    seeded: AuthClient, app_client: str, auth_db: str
) -> None:
    session_id = log_in(seeded)
    tokens = device_tokens(seeded)
    secret = seeded.http.cookies[seeded.services.browser.session_cookie.name]
    form = {"client_id": app_client, "post_logout_redirect_uri": BYE, "state": "s 1", "action": "logout"}
    done = seeded.http.post("/logout", data={**form, "_csrf_token": csrf(seeded)}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == BYE + "&state=s+1"
    assert 'auth_session=""' in done.headers["set-cookie"] or "Max-Age=0" in done.headers["set-cookie"]
    assert ended_at(seeded, auth_db, session_id) == "logout"
    refreshed = seeded.token(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": "auth-cli"}
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"
    # The ended session's cookie, sent again, no longer skips the login.
    seeded.http.cookies.set(seeded.services.browser.session_cookie.name, secret)
    again = seeded.http.get("/device", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login?")


def test_staying_signed_in(seeded: AuthClient, auth_db: str) -> None:
    session_id = log_in(seeded)
    stayed = seeded.http.post("/logout", data={"action": "stay", "_csrf_token": csrf(seeded)})
    assert stayed.status_code == 200
    assert "You are still signed in" in stayed.text
    assert ended_at(seeded, auth_db, session_id) is None


def test_a_forged_confirmation_without_the_csrf_token_is_refused(seeded: AuthClient, auth_db: str) -> None:
    session_id = log_in(seeded)
    csrf(seeded)
    forged = seeded.http.post("/logout", data={"action": "logout"})
    assert forged.status_code == 403
    assert ended_at(seeded, auth_db, session_id) is None


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/signed-out?from=auth/../evil",
        "https://app.example/signed-out/extra?from=auth",
        "https://app.example/signed-out?from=auth&x=1",
        "https://APP.example/signed-out?from=auth",
        "https://evil.example/signed-out?from=auth",
        "https://app.example:8443/signed-out?from=auth",
        "//evil.example/",
    ],
)
def test_an_unregistered_post_logout_uri_is_an_error_page(
    seeded: AuthClient, app_client: str, uri: str
) -> None:
    log_in(seeded)
    page = seeded.http.get(
        "/oauth/logout",
        params={"client_id": app_client, "post_logout_redirect_uri": uri},
        follow_redirects=False,
    )
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "not registered for this app" in page.text
    assert "evil" not in page.text  # the error page never echoes the request


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"post_logout_redirect_uri": BYE}, "not the app it belongs to"),
        ({"client_id": "no-such-app", "post_logout_redirect_uri": BYE}, "is not known"),
        ({"id_token_hint": "not.a.token"}, "was not issued here"),
    ],
)
def test_requests_that_cannot_be_checked_are_refused(
    auth: AuthClient, params: dict[str, str], says: str
) -> None:
    page = auth.http.get("/oauth/logout", params=params, follow_redirects=False)
    assert page.status_code == 400
    assert says in page.text


def test_a_repeated_parameter_is_refused(auth: AuthClient, app_client: str) -> None:
    page = auth.http.get(f"/oauth/logout?client_id={app_client}&client_id={app_client}")
    assert page.status_code == 400


def test_a_hint_naming_the_current_session_ends_it_at_once(
    seeded: AuthClient, app_client: str, auth_db: str
) -> None:
    session_id = log_in(seeded)
    now = int(time.time())
    hint = seeded.services.signing_keys.keyring.signer.sign(
        {
            "iss": "http://auth.test",
            "sub": str(uuid.uuid4()),
            "aud": app_client,
            "iat": now - 7200,
            "exp": now - 3600,  # expired hints are accepted
            "sid": str(session_id),
        },
        typ="JWT",
    )
    done = seeded.http.get(
        "/oauth/logout",
        params={"id_token_hint": hint, "post_logout_redirect_uri": BYE, "state": "st"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == BYE + "&state=st"
    assert ended_at(seeded, auth_db, session_id) == "logout"
    other = seeded.http.get("/oauth/logout", params={"id_token_hint": hint, "client_id": "auth-cli"})
    assert other.status_code == 400  # client_id and the hint's aud disagree
