"""Helpers of the authorization code grant tests: a code stored as the authorization endpoint
stores it (``CodeRepository.create``), a PKCE pair computed here (not with the grant's own
function), and the token request that exchanges a code."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from uuid import UUID

import httpx

from auth_service.oidc.assurance import ACR_ONE_FACTOR, AMR_PASSWORD
from auth_service.random_secrets import digest
from auth_service.tokens.codes import CodeRepository, NewCode
from tests.auth_service.conftest import AuthClient
from tests.auth_service.revocation_stream import PUBLISHED_WITHIN

CLI = "auth-cli"
"""The seeded public first-party client (authorization_code and refresh_token grants)."""
CLI_REDIRECT = "http://127.0.0.1:53682/callback"
AUTH_TIME = 1_700_000_000


def pkce() -> tuple[str, str]:
    """``(verifier, S256 challenge)``."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def user_id(auth: AuthClient, email: str) -> UUID:
    async def run() -> UUID:
        async with auth.services.pool.acquire() as conn:
            value: UUID = await conn.fetchval("SELECT id FROM users WHERE email = $1", email)
        return value

    result: UUID = auth.call(run)
    return result


KEEP_IN_PROCESS = False
"""Whether ``store_code`` also keeps the code in the process (``FreshCodes``), as the authorization
endpoint does, or leaves it to be read back, as at another replica (``test_code_grant`` runs both)."""


def store_code(
    auth: AuthClient,
    user: UUID,
    challenge: str,
    *,
    scopes: list[str],
    resources: list[str],
    client_id: str = CLI,
    redirect_uri: str = CLI_REDIRECT,
    nonce: str | None = None,
    browser_session_id: UUID | None = None,
    ttl: int = 60,
) -> str:
    code = secrets.token_urlsafe(32)
    new = NewCode(
        client_id=client_id,
        user_id=user,
        browser_session_id=browser_session_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        resources=resources,
        code_challenge=challenge,
        nonce=nonce,
        auth_time=AUTH_TIME,
        amr=[AMR_PASSWORD],
        acr=ACR_ONE_FACTOR,
    )

    async def run() -> None:
        async with auth.services.pool.acquire() as conn:
            person = await CodeRepository().create(conn, digest(code), new, ttl)
        assert person is not None
        if KEEP_IN_PROCESS:  # as the authorization endpoint does (its token endpoint skips the read)
            auth.services.oauth.fresh_codes.keep(digest(code), new, person)

    auth.call(run)
    return code


def exchange(
    auth: AuthClient,
    code: str,
    verifier: str | None,
    *,
    client_id: str = CLI,
    redirect_uri: str = CLI_REDIRECT,
    headers: dict[str, str] | None = None,
    **extra: str,
) -> httpx.Response:
    form: dict[str, Any] = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if client_id:
        form["client_id"] = client_id
    if verifier is not None:
        form["code_verifier"] = verifier
    return auth.token({**form, **extra}, headers=headers or {})


def exchanged(auth: AuthClient, code: str, verifier: str, **kwargs: Any) -> dict[str, Any]:
    response = exchange(auth, code, verifier, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


def refresh(auth: AuthClient, token: str, client_id: str = CLI, **extra: str) -> httpx.Response:
    return auth.token(
        {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": token, **extra}
    )


def refused_at_me(auth: AuthClient, token: str) -> None:
    """``/api/1/users/me`` answers 401 for ``token`` within the revocation stream's bound
    (this service's verifier follows the stream like any resource server)."""
    deadline = time.monotonic() + PUBLISHED_WITHIN
    while (response := auth.http.get("/api/1/users/me", headers=auth.bearer(token))).status_code != 401:
        assert time.monotonic() < deadline, f"/api/1/users/me still answers {response.status_code}"
        time.sleep(0.02)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
