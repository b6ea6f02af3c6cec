"""Driving the browser side of the code flow with the TestClient (cookies kept, redirects not followed)."""

from __future__ import annotations

import base64
import hashlib
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


def location(response: httpx.Response) -> str:
    assert response.status_code == 303, (response.status_code, response.text[:500])
    return response.headers["location"]


def client_params(response: httpx.Response, redirect_uri: str = REDIRECT_URI) -> dict[str, str]:
    """The authorization response's parameters at the client's redirect URI (query mode)."""
    target = location(response)
    assert target.startswith(redirect_uri + "?"), target
    return {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}


def csrf_of(page: httpx.Response) -> str:
    match = CSRF_INPUT.search(page.text)
    assert match, page.text[:500]
    return match.group(1)


def submit_login(auth: AuthClient, login_path: str, email: str, password: str) -> httpx.Response:
    page = auth.http.get(login_path)
    assert page.status_code == 200, page.text[:500]
    form = {"_csrf_token": csrf_of(page), "email": email, "password": password}
    match = REQUEST_INPUT.search(page.text)
    if match:
        form["request"] = match.group(1)
    return_to = parse_qs(urlsplit(login_path).query).get("return_to")
    if return_to:
        form["return_to"] = return_to[0]
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
    """A whole first login for ``client_id`` (consent allowed if asked): the client's parameters."""
    answer = submit_login(auth, location(authorize(auth, client_id, **params)), email, password)
    if location(answer).startswith("/consent?"):
        answer = submit_consent(auth, location(answer), "allow")
    return client_params(answer)
