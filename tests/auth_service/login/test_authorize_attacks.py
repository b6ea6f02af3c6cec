"""The front-channel attacks: redirect URIs, PKCE, request objects, CSRF, framing, open redirects."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl, urlencode
from uuid import UUID

import httpx
import pytest

from auth_service.clients.schemas import ClientUpdate
from auth_service.tokens.codes import CodeRepository, NewCode
from tests.auth_service.conftest import AGENT_EMAIL, AGENT_PASSWORD, SYSTEM, AuthClient
from tests.auth_service.login.db import execute, fetch
from tests.auth_service.login.flow import (
    REDIRECT_URI,
    authorize,
    client_params,
    location,
    log_in_through,
    login_fields,
    login_required,
    stored_login_path,
    submit_login,
    web_client,
)


def assert_error_page(response: httpx.Response, *, leaked: str | None = None) -> None:
    """A 400 HTML page that sends the browser nowhere and does not echo the address."""
    assert response.status_code == 400, response.text[:300]
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    if leaked:
        assert leaked not in response.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://app.example/callback/extra",  # extra path
        "https://app.example/callback?next=https://evil.example",  # added query
        "https://APP.example/callback",  # case
        "https://app.example/Callback",
        "https://app.example/callback/../evil",  # dot segments
        "https://app.example/x/../callback",
        "https://app.example/callback/",  # trailing slash
        "https://app.example:8443/callback",  # another port on a non-loopback URI
        "http://app.example/callback",  # another scheme
        "https://app.example.evil.example/callback",
        "https://evil.example/callback",
        "https://app.example/callback#frag",
    ],
)
def test_an_altered_redirect_uri_is_an_error_page(seeded: AuthClient, redirect_uri: str) -> None:
    client = web_client(seeded)
    response = authorize(seeded, client.client_id, redirect_uri=redirect_uri)
    assert_error_page(response, leaked=redirect_uri)
    assert "This sign-in link is not valid" in response.text
    assert response.headers["x-frame-options"] == "DENY"


def test_a_loopback_redirect_uri_may_use_any_port(seeded: AuthClient) -> None:
    client = web_client(seeded, redirect_uris=["http://127.0.0.1/callback"], first_party=True)
    good = authorize(seeded, client.client_id, redirect_uri="http://127.0.0.1:54321/callback")
    login_required(good)
    bad = authorize(seeded, client.client_id, redirect_uri="http://127.0.0.1:54321/other")
    assert_error_page(bad)


@pytest.mark.parametrize(
    "query",
    [
        {"client_id": "-"},
        {"redirect_uri": "-"},
        {"client_id": "no-such-client"},
    ],
)
def test_no_trusted_client_or_redirect_uri_is_an_error_page(
    seeded: AuthClient, query: dict[str, str]
) -> None:
    client = web_client(seeded)
    assert_error_page(authorize(seeded, client.client_id, **query))


def test_repeated_client_id_or_redirect_uri_is_an_error_page(seeded: AuthClient) -> None:
    client = web_client(seeded)
    base = [
        ("response_type", "code"),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
        ("code_challenge_method", "S256"),
    ]
    for extra in (
        [("client_id", client.client_id), ("client_id", client.client_id), ("redirect_uri", REDIRECT_URI)],
        [("client_id", client.client_id), ("redirect_uri", REDIRECT_URI), ("redirect_uri", REDIRECT_URI)],
    ):
        response = seeded.http.get("/oauth/authorize", params=[*base, *extra], follow_redirects=False)
        assert_error_page(response)


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"code_challenge": "-", "code_challenge_method": "-"}, "invalid_request"),  # no PKCE
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": "-"}, "invalid_request"),  # absent means plain
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c+"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"response_type": "-"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"prompt": "select_account"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"scope": "openid customers:delete"}, "invalid_scope"),  # not the client's
        ({"scope": "openid no:such"}, "invalid_scope"),
        ({"resource": "https://unknown.example"}, "invalid_target"),
        ({"scope": "openid admin:users"}, "invalid_scope"),
        ({"nonce": "n" * 513}, "invalid_request"),
    ],
)
def test_other_errors_go_back_to_the_app(seeded: AuthClient, query: dict[str, str], error: str) -> None:
    client = web_client(seeded)
    params = client_params(authorize(seeded, client.client_id, **query))
    assert params["error"] == error, params
    assert params["state"] == "st-123"
    assert params["iss"] == "http://auth.test"
    assert fetch(seeded, "SELECT 1 FROM authorization_requests") == []  # nothing stored


def test_a_client_without_the_code_flow_is_unauthorized(seeded: AuthClient) -> None:
    client = web_client(seeded)
    change = ClientUpdate(grant_types=["refresh_token"], response_types=[])
    seeded.call(seeded.services.clients.update, client.client_id, change, SYSTEM)
    assert client_params(authorize(seeded, client.client_id))["error"] == "unauthorized_client"


def _altered(carried: str, **changes: str) -> str:
    params = dict(parse_qsl(carried))
    return urlencode({**params, **changes})


def test_the_request_a_login_form_carries_is_checked_again(seeded: AuthClient) -> None:
    """The form carries the request back as the authorization endpoint received it; that is what
    the browser says, as the endpoint's query was, so it is checked again, before the password."""
    client = web_client(seeded, first_party=True)
    fields = login_fields(login_required(authorize(seeded, client.client_id)))
    carried = fields["authorization"]
    pushed = stored_login_path(seeded, client.client_id).split("=", 1)[1]
    refused = [
        _altered(carried, redirect_uri="https://evil.example/callback"),
        _altered(carried, client_id="no-such-client"),
        f"{carried}&client_id={client.client_id}",  # repeated
        "&".join([carried] * 10),  # too many parameters
        _altered(carried, code_challenge_method="plain"),  # an error for the client: not logged in
        f"client_id={client.client_id}&request_uri=urn:ietf:params:oauth:request_uri:{pushed}",
        "%",
    ]
    for value in refused:
        form = {**fields, "authorization": value, "email": AGENT_EMAIL, "password": AGENT_PASSWORD}
        answer = seeded.http.post("/login", data=form, follow_redirects=False)
        assert_error_page(answer, leaked="evil.example")
    assert fetch(seeded, "SELECT 1 FROM browser_sessions") == []
    assert fetch(seeded, "SELECT 1 FROM audit_events WHERE action LIKE 'login%'") == []
    # the same form, unaltered, logs in
    form = {**fields, "email": AGENT_EMAIL, "password": AGENT_PASSWORD}
    answered = client_params(seeded.http.post("/login", data=form, follow_redirects=False))
    assert set(answered) == {"code", "state", "iss"}


def test_a_login_post_without_the_csrf_token_is_refused(seeded: AuthClient) -> None:
    client = web_client(seeded, first_party=True)
    carried = login_fields(login_required(authorize(seeded, client.client_id)))["authorization"]
    request_id = stored_login_path(seeded, client.client_id).split("=", 1)[1]
    for continued in ({"authorization": carried}, {"request": request_id}):
        forged = seeded.http.post(
            "/login",
            data={"email": AGENT_EMAIL, "password": AGENT_PASSWORD, **continued},
            follow_redirects=False,
        )
        assert forged.status_code == 403
        assert "location" not in forged.headers
        assert "auth_session" not in forged.headers.get("set-cookie", "")
    assert fetch(seeded, "SELECT 1 FROM browser_sessions") == []
    consent = seeded.http.post(
        "/consent", data={"request": request_id, "action": "allow"}, follow_redirects=False
    )
    assert consent.status_code == 403


@pytest.mark.parametrize("page", ["login", "consent"])
def test_login_and_consent_pages_cannot_be_framed(seeded: AuthClient, page: str) -> None:
    client = web_client(seeded)
    response = authorize(seeded, client.client_id)  # the login form
    if page == "consent":
        response = seeded.http.get(location(submit_login(seeded, response, AGENT_EMAIL, AGENT_PASSWORD)))
    assert response.status_code == 200
    headers = response.headers
    csp = headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "form-action 'self' https://app.example;" in csp
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    "return_to",
    [
        "https://evil.example/device",
        "//evil.example/device",
        "/\\evil.example",
        "/devices-of-evil",
        "/device/../admin",
        "/device#https://evil.example",
        "/oauth/authorize",
        "",
    ],
)
def test_return_to_is_never_an_open_redirect(seeded: AuthClient, return_to: str) -> None:
    page = seeded.http.get("/login", params={"return_to": return_to}, follow_redirects=False)
    assert_error_page(page)
    seeded.http.get("/login?return_to=/device")  # a valid page, for its CSRF cookie and token
    token = (
        seeded.http.get("/login?return_to=/device").text.split('name="_csrf_token" value="')[1].split('"')[0]
    )
    answer = seeded.http.post(
        "/login",
        data={"_csrf_token": token, "email": AGENT_EMAIL, "password": AGENT_PASSWORD, "return_to": return_to},
        follow_redirects=False,
    )
    assert_error_page(answer)
    assert fetch(seeded, "SELECT 1 FROM browser_sessions") == []  # refused before any login


def test_an_expired_request_cannot_be_logged_in(seeded: AuthClient) -> None:
    client = web_client(seeded, first_party=True)
    login_path = stored_login_path(seeded, client.client_id)
    execute(seeded, "UPDATE authorization_requests SET expires_at = now() - interval '1 s'")
    assert_error_page(seeded.http.get(login_path))
    assert_error_page(seeded.http.get("/login?request=not-a-uuid"))
    assert_error_page(seeded.http.get("/consent?request=00000000-0000-0000-0000-000000000000"))


def test_a_code_for_one_login_is_not_answered_to_another_request(seeded: AuthClient) -> None:
    """The parameters come from the stored request, never from the page's form."""
    client = web_client(seeded, first_party=True)
    params = log_in_through(seeded, client.client_id, AGENT_EMAIL, AGENT_PASSWORD, state="mine")
    assert params["state"] == "mine"
    (code,) = fetch(seeded, "SELECT redirect_uri, code_challenge FROM authorization_codes")
    assert code["redirect_uri"] == REDIRECT_URI


def test_a_stored_request_is_answered_with_one_code_even_twice_at_once(seeded: AuthClient) -> None:
    """Two tabs posting the same login or consent at the same instant: one code, the other refused."""
    client = web_client(seeded, first_party=True)
    request_id = UUID(stored_login_path(seeded, client.client_id).split("request=")[1])
    (agent,) = fetch(seeded, "SELECT id FROM users WHERE email = $1", AGENT_EMAIL)
    new = NewCode(
        client_id=client.client_id, user_id=agent["id"], browser_session_id=None, redirect_uri=REDIRECT_URI,
        scopes=["openid"], resources=[], code_challenge="c" * 43, nonce=None, auth_time=0,
        amr=["pwd"], acr="1",
    )  # fmt: skip

    async def answer(secret: bytes) -> bool:
        async with seeded.services.pool.acquire() as conn:
            return await CodeRepository().create(conn, secret, new, 60, taking=request_id) is not None

    async def both() -> list[bool]:
        return list(await asyncio.gather(answer(b"a" * 32), answer(b"b" * 32)))

    assert sorted(seeded.call(both)) == [False, True]
    assert len(fetch(seeded, "SELECT 1 FROM authorization_codes")) == 1
    assert fetch(seeded, "SELECT 1 FROM authorization_requests") == []
