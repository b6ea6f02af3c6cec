"""Driving the browser side of the code flow with the TestClient (cookies kept, redirects not followed)."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from auth_service.clients.schemas import ClientWithSecret
from tests.auth_service.conftest import AuthClient

REDIRECT_URI = "https://app.example/callback"
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
REQUEST_INPUT = re.compile(r'name="request" value="([^"]+)"')
CARRIED_INPUT = re.compile(r'name="authorization" value="([^"]+)"')
RETURN_TO_INPUT = re.compile(r'name="return_to" value="([^"]+)"')
LoginPage = str | httpx.Response
"""Where a login form is: the path of a ``/login?...`` page, or the page itself (the authorization
endpoint answers a request that needs a login with the form)."""


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def web_client(auth: AuthClient, *, first_party: bool = False, **fields: Any) -> ClientWithSecret:
    values: dict[str, Any] = {
        "client_name": "Budget App",
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        "redirect_uris": [REDIRECT_URI],
        "scope": "customers:read customers:write",
        "first_party": first_party,
        **fields,
    }
    return auth.create_client(**values)


VERIFIER, CHALLENGE = pkce()
"""One PKCE pair for the tests' requests (``redeem`` sends the verifier)."""


def authorize(auth: AuthClient, client: str, **params: str) -> httpx.Response:
    """GET /oauth/authorize; a parameter given as ``"-"`` is left out."""
    challenge = CHALLENGE
    query: dict[str, str] = {
        "response_type": "code",
        "client_id": client,
        "redirect_uri": REDIRECT_URI,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st-123",
        "scope": "openid customers:read",
        **params,
    }
    return auth.http.get(
        "/oauth/authorize", params={k: v for k, v in query.items() if v != "-"}, follow_redirects=False
    )


def stored_login_path(auth: AuthClient, client: str, **params: str) -> str:
    """``/login?request=<id>`` of a stored request: a pushed one (RFC 9126), once used. The pages
    that come after a login (consent, the second step) carry a request this way."""
    form = {"response_type": "code", "client_id": client, "redirect_uri": REDIRECT_URI, "state": "st-123",
            "code_challenge": CHALLENGE, "code_challenge_method": "S256", "scope": "openid customers:read",
            **params}  # fmt: skip
    pushed = auth.http.post("/oauth/par", data=form)
    assert pushed.status_code == 201, pushed.text
    query = {"client_id": client, "request_uri": pushed.json()["request_uri"]}
    path = location(auth.http.get("/oauth/authorize", params=query, follow_redirects=False))
    assert path.startswith("/login?request="), path
    return path


def location(response: httpx.Response) -> str:
    assert response.status_code == 303, (response.status_code, response.text[:500])
    return response.headers["location"]


def client_params(response: httpx.Response, redirect_uri: str = REDIRECT_URI) -> dict[str, str]:
    """The authorization response's parameters at the client's redirect URI (query mode)."""
    target = location(response)
    assert target.startswith(redirect_uri + "?"), target
    return {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}


def login_required(response: httpx.Response) -> httpx.Response:
    """The login form the authorization endpoint answered with, carrying its request back."""
    assert response.status_code == 200, (response.status_code, response.headers.get("location"))
    assert 'name="password"' in response.text, response.text[:500]
    assert CARRIED_INPUT.search(response.text), "the form does not carry the request"
    assert response.headers["cache-control"] == "no-store"
    return response


def login_page(auth: AuthClient, login: LoginPage) -> httpx.Response:
    page = auth.http.get(login) if isinstance(login, str) else login
    assert page.status_code == 200, page.text[:500]
    return page


def login_fields(page: httpx.Response) -> dict[str, str]:
    """The hidden fields of the page's forms: the CSRF token and what the login goes on with."""
    form = {"_csrf_token": csrf_of(page)}
    for name, pattern in (
        ("request", REQUEST_INPUT),
        ("authorization", CARRIED_INPUT),
        ("return_to", RETURN_TO_INPUT),
    ):
        match = pattern.search(page.text)
        if match:
            form[name] = html.unescape(match.group(1))
    return form


def csrf_of(page: httpx.Response) -> str:
    match = CSRF_INPUT.search(page.text)
    assert match, page.text[:500]
    return match.group(1)


def submit_login(auth: AuthClient, login: LoginPage, email: str, password: str) -> httpx.Response:
    form = {**login_fields(login_page(auth, login)), "email": email, "password": password}
    return auth.http.post("/login", data=form, follow_redirects=False)


def submit_consent(auth: AuthClient, consent_path: str, action: str) -> httpx.Response:
    page = auth.http.get(consent_path)
    assert page.status_code == 200, page.text[:500]
    request_id = REQUEST_INPUT.search(page.text)
    assert request_id
    form = {"_csrf_token": csrf_of(page), "request": request_id.group(1), "action": action}
    return auth.http.post("/consent", data=form, follow_redirects=False)


def redeem(auth: AuthClient, client_id: str, code: str, redirect_uri: str = REDIRECT_URI) -> httpx.Response:
    return auth.token(
        {
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": VERIFIER,
        }
    )


def log_in_through(
    auth: AuthClient, client_id: str, email: str, password: str, **params: str
) -> dict[str, str]:
    """A whole first login for ``client_id`` (consent allowed if asked): the client's parameters.
    With a live session already, only the consent is asked (if it is)."""
    answer = authorize(auth, client_id, **params)
    if answer.status_code == 200:  # the login form (no live session)
        answer = submit_login(auth, login_required(answer), email, password)
    if location(answer).startswith("/consent?"):
        answer = submit_consent(auth, location(answer), "allow")
    return client_params(answer)
