"""Pushed Authorization Requests (RFC 9126): ``POST /oauth/par``, then ``/oauth/authorize`` with
``client_id`` and ``request_uri`` alone, used once, by that client only."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.auth_service.conftest import AGENT_EMAIL, AGENT_PASSWORD, AuthClient
from tests.auth_service.login.db import execute, fetch
from tests.auth_service.login.flow import (
    CHALLENGE,
    REDIRECT_URI,
    VERIFIER,
    client_params,
    location,
    redeem,
    submit_consent,
    submit_login,
    web_client,
)
from tests.auth_service.login.test_authorize_attacks import assert_error_page
from tests.auth_service.test_token_grants import assert_oauth_error, claims_of

PREFIX = "urn:ietf:params:oauth:request_uri:"


def push(
    auth: AuthClient, client_id: str | None, headers: dict[str, str] | None = None, /, **params: str
) -> httpx.Response:
    """POST /oauth/par with a complete request; a parameter given as ``"-"`` is left out."""
    form: dict[str, str] = {
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "state": "st-par",
        "nonce": "n-par",
        "scope": "openid customers:read",
        **({"client_id": client_id} if client_id else {}),
        **params,
    }
    data = {k: v for k, v in form.items() if v != "-"}
    return auth.http.post("/oauth/par", data=data, headers=headers or {})


def pushed_uri(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert set(body) == {"request_uri", "expires_in"}
    assert body["expires_in"] == 90  # RFC 9126's short life, not the 600 s of a browser's request
    assert body["request_uri"].startswith(PREFIX)
    uri: str = body["request_uri"]
    return uri


def use(auth: AuthClient, client_id: str, request_uri: str, **ignored: str) -> httpx.Response:
    params = {"client_id": client_id, "request_uri": request_uri, **ignored}
    return auth.http.get("/oauth/authorize", params=params, follow_redirects=False)


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_a_pushed_request_logs_in_to_a_token(seeded: AuthClient) -> None:
    client = web_client(seeded)
    uri = pushed_uri(push(seeded, client.client_id))
    (row,) = fetch(
        seeded, "SELECT id, client_id, parameters->>'pushed' AS pushed FROM authorization_requests"
    )
    assert (str(row["id"]), row["client_id"], row["pushed"]) == (
        uri.removeprefix(PREFIX),
        client.client_id,
        "true",
    )
    # every other parameter at the authorization endpoint is ignored (RFC 9126 section 4)
    login_path = location(
        use(
            seeded,
            client.client_id,
            uri,
            redirect_uri="https://evil.example/cb",
            state="evil",
            scope="openid",
        )
    )
    assert login_path.startswith("/login?request=")
    assert uri.removeprefix(PREFIX) not in login_path  # the browser's request has a new id
    consent_path = location(submit_login(seeded, login_path, AGENT_EMAIL, AGENT_PASSWORD))
    params = client_params(submit_consent(seeded, consent_path, "allow"), REDIRECT_URI)
    assert params["state"] == "st-par"
    assert params["iss"] == "http://auth.test"
    token = redeem(seeded, client.client_id, params["code"])
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["scope"] == "customers:read openid"
    assert claims_of(body["id_token"])["nonce"] == "n-par"
    assert fetch(seeded, "SELECT 1 FROM authorization_requests") == []  # answered: gone


def test_a_confidential_client_authenticates_with_its_registered_method(seeded: AuthClient) -> None:
    client = web_client(seeded, token_endpoint_auth_method="client_secret_basic", first_party=True)
    assert client.client_secret
    wrong = push(seeded, client.client_id, basic(client.client_id, "not-the-secret"))
    assert_oauth_error(wrong, 401, "invalid_client")
    assert wrong.headers["www-authenticate"].startswith("Basic ")
    assert_oauth_error(push(seeded, client.client_id), 401, "invalid_client")  # no secret at all
    post = push(seeded, client.client_id, client_secret=client.client_secret)  # not its method
    assert_oauth_error(post, 401, "invalid_client")
    assert_oauth_error(push(seeded, "no-such-client"), 401, "invalid_client")
    assert fetch(seeded, "SELECT 1 FROM authorization_requests") == []
    # Basic alone names the client: the body needs no client_id
    uri = pushed_uri(push(seeded, None, basic(client.client_id, client.client_secret)))
    answer = submit_login(seeded, location(use(seeded, client.client_id, uri)), AGENT_EMAIL, AGENT_PASSWORD)
    code = client_params(answer)["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    token = seeded.token(
        {**form, "code_verifier": VERIFIER}, headers=basic(client.client_id, client.client_secret)
    )
    assert token.status_code == 200, token.text


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"code_challenge": "-"}, "invalid_request"),  # PKCE is required
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": "-"}, "invalid_request"),  # absent means plain
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "-"}, "invalid_request"),
        ({"redirect_uri": "https://evil.example/callback"}, "invalid_request"),  # JSON, never a redirect
        ({"redirect_uri": "-"}, "invalid_request"),
        ({"request_uri": PREFIX + "00000000-0000-0000-0000-000000000000"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"scope": "openid admin:users"}, "invalid_scope"),
        ({"resource": "https://nowhere.example"}, "invalid_target"),
        ({"prompt": "sometimes"}, "invalid_request"),
        ({"max_age": "-1"}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
    ],
)
def test_a_bad_pushed_request_is_an_oauth_error(
    seeded: AuthClient, params: dict[str, str], error: str
) -> None:
    client = web_client(seeded)
    response = push(seeded, client.client_id, **params)
    assert_oauth_error(response, 400, error)
    assert "location" not in response.headers
    assert fetch(seeded, "SELECT 1 FROM authorization_requests") == []


def test_a_repeated_parameter_and_a_client_without_the_code_flow_are_refused(seeded: AuthClient) -> None:
    client = web_client(seeded)
    repeated = seeded.http.post(
        "/oauth/par",
        content=f"client_id={client.client_id}&state=a&state=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_oauth_error(repeated, 400, "invalid_request")
    device_only = web_client(
        seeded, grant_types=["urn:ietf:params:oauth:grant-type:device_code"], redirect_uris=[]
    )
    assert_oauth_error(push(seeded, device_only.client_id), 400, "unauthorized_client")


def test_another_clients_request_uri_is_an_error_page_and_stays_unused(seeded: AuthClient) -> None:
    mine, other = web_client(seeded), web_client(seeded, client_name="Other App")
    uri = pushed_uri(push(seeded, mine.client_id))
    assert_error_page(use(seeded, other.client_id, uri), leaked=REDIRECT_URI)
    assert_error_page(use(seeded, "no-such-client", uri))
    assert location(use(seeded, mine.client_id, uri)).startswith("/login?request=")  # still its owner's


def test_a_request_uri_is_used_once(seeded: AuthClient) -> None:
    client = web_client(seeded, first_party=True)
    uri = pushed_uri(push(seeded, client.client_id))
    form = {"client_id": client.client_id, "request_uri": uri}
    first = seeded.http.post("/oauth/authorize", data=form, follow_redirects=False)  # POST works too
    login_path = location(first)
    assert_error_page(use(seeded, client.client_id, uri))
    # the browser's request goes on; the pushed id cannot be used as a page's request either
    assert_error_page(seeded.http.get(f"/login?request={uri.removeprefix(PREFIX)}"))
    assert "code" in client_params(submit_login(seeded, login_path, AGENT_EMAIL, AGENT_PASSWORD))


def test_pushed_and_page_requests_do_not_mix(seeded: AuthClient) -> None:
    client = web_client(seeded, first_party=True)
    uri = pushed_uri(push(seeded, client.client_id))
    assert_error_page(seeded.http.get(f"/login?request={uri.removeprefix(PREFIX)}"))
    assert_error_page(seeded.http.get(f"/consent?request={uri.removeprefix(PREFIX)}"))
    login_path = location(use(seeded, client.client_id, uri))  # not spent by the pages
    # nor is a browser's request (its id is in the page's URL) a request_uri
    assert_error_page(use(seeded, client.client_id, PREFIX + login_path.removeprefix("/login?request=")))
    assert "code" in client_params(submit_login(seeded, login_path, AGENT_EMAIL, AGENT_PASSWORD))


def test_an_expired_or_malformed_request_uri_is_an_error_page(seeded: AuthClient) -> None:
    client = web_client(seeded, first_party=True)
    uri = pushed_uri(push(seeded, client.client_id))
    execute(seeded, "UPDATE authorization_requests SET expires_at = now() - interval '1 s'")
    expired = use(seeded, client.client_id, uri)
    assert_error_page(expired)
    assert "expired" in expired.text
    for bad in (PREFIX + "not-a-uuid", "https://app.example/request.jwt", uri.removeprefix(PREFIX)):
        assert_error_page(use(seeded, client.client_id, bad))
    no_client = seeded.http.get("/oauth/authorize", params={"request_uri": uri}, follow_redirects=False)
    assert_error_page(no_client)
