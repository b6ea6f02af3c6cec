"""Driving the passkey ceremonies through the app as the page's script does: options as JSON (the
login page's own, else asked for with the CSRF token in ``X-CSRFToken``), the software
authenticator's answer posted with the form."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from uuid import UUID

import httpx

from auth_service.oidc.assurance import ACR_ONE_FACTOR, AMR_PASSWORD
from tests.auth_service.conftest import AuthClient
from tests.auth_service.login.db import fetch
from tests.auth_service.login.flow import (
    LoginPage,
    authorize,
    csrf_of,
    location,
    login_fields,
    login_page,
    login_required,
    redeem,
    web_client,
)
from tests.auth_service.passkeys.soft_authenticator import SoftAuthenticator
from tests.auth_service.test_token_grants import claims_of

__all__ = [
    "ORIGIN",
    "PAGE_OPTIONS",
    "PASSWORD",
    "AccountBrowser",
    "authenticator",
    "login_options",
    "page_options",
    "passkey_login",
    "sign_in",
    "tokens_of",
]

ORIGIN = "http://auth.test"
"""The issuer's origin: the default ``AUTH_WEBAUTHN_ORIGINS`` of the test settings."""
PASSWORD = "a passphrase for the passkey tests 9"
PAGE_OPTIONS = re.compile(r"data-page-options='([^']*)'")


def authenticator(**flags: Any) -> SoftAuthenticator:
    return SoftAuthenticator(ORIGIN, **flags)


def sign_in(auth: AuthClient, user_id: UUID) -> None:
    """A live browser session for ``user_id`` in the test client (as a password login leaves)."""
    _, secret = auth.call(
        auth.services.browser.browser_sessions.start,
        user_id, amr=[AMR_PASSWORD], acr=ACR_ONE_FACTOR, source_ip=None, user_agent=None, replacing=None,
    )  # fmt: skip
    auth.http.cookies.clear()  # the browser's previous session cookie (set by a response) goes
    auth.http.cookies.set(auth.services.browser.session_cookie.name, secret)


class AccountBrowser:
    """The passkey list page of the signed-in person, and its forms."""

    def __init__(self, auth: AuthClient) -> None:
        self.auth = auth

    def page(self, query: str = "") -> httpx.Response:
        return self.auth.http.get(f"/account/passkeys{query}", follow_redirects=False)

    def token(self) -> str:
        page = self.page()
        assert page.status_code == 200, page.text[:500]
        return csrf_of(page)

    def options(self) -> dict[str, Any]:
        answer = self.auth.http.post("/account/passkeys/options", headers={"X-CSRFToken": self.token()})
        assert answer.status_code == 200, answer.text[:500]
        body: dict[str, Any] = answer.json()
        return body

    def add(self, credential: dict[str, Any] | str, name: str = "") -> httpx.Response:
        value = credential if isinstance(credential, str) else json.dumps(credential)
        form = {"_csrf_token": self.token(), "credential": value, "name": name}
        return self.auth.http.post("/account/passkeys", data=form, follow_redirects=False)

    def register(self, device: SoftAuthenticator, name: str = "") -> httpx.Response:
        answer = self.add(device.create(self.options()), name)
        assert answer.status_code in (200, 303), answer.text[:800]
        return answer

    def rename(self, passkey_id: str, name: str) -> httpx.Response:
        form = {"_csrf_token": self.token(), "name": name}
        return self.auth.http.post(f"/account/passkeys/{passkey_id}/name", data=form, follow_redirects=False)

    def remove(self, passkey_id: str) -> httpx.Response:
        form = {"_csrf_token": self.token()}
        return self.auth.http.post(
            f"/account/passkeys/{passkey_id}/delete", data=form, follow_redirects=False
        )


def page_options(page: httpx.Response) -> dict[str, Any]:
    """The passkey options a login page carries (its form's ``data-page-options``)."""
    match = PAGE_OPTIONS.search(page.text)
    assert match, "the login page carries no passkey options"
    options: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return options


def login_options(
    auth: AuthClient, login: LoginPage, *, asked: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """The login page's passkey options (``asked``: fresh ones from ``/passkeys/login/options``,
    as the script asks once the page's are old), and the passkey form's fields (CSRF, request)."""
    page = login_page(auth, login)
    form = login_fields(page)
    if not asked:
        return page_options(page), form
    answer = auth.http.post("/passkeys/login/options", headers={"X-CSRFToken": form["_csrf_token"]})
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["cache-control"] == "no-store"
    options: dict[str, Any] = answer.json()
    return options, form


def passkey_login(
    auth: AuthClient, login: LoginPage, device: SoftAuthenticator, **tamper: Any
) -> httpx.Response:
    """The passkey button of the login page; ``tamper`` goes to the authenticator (``origin``...)."""
    options, form = login_options(auth, login)
    assertion = device.get(options, **tamper)
    return auth.http.post(
        "/passkeys/login", data={**form, "credential": json.dumps(assertion)}, follow_redirects=False
    )


def tokens_of(auth: AuthClient, answer: httpx.Response, client_id: str) -> dict[str, Any]:
    """The ID token's claims of the code the login ended with (a first-party client: no consent)."""
    target = location(answer)
    code = httpx.URL(target).params["code"]
    token = redeem(auth, client_id, code)
    assert token.status_code == 200, token.text
    claims: dict[str, Any] = claims_of(token.json()["id_token"])
    return claims


def first_party_login_path(auth: AuthClient) -> tuple[str, str]:
    """A first-party app's authorization request: its client id, and its URL, which answers with
    the login form (each GET a new page: nothing is stored before the login)."""
    client = web_client(auth, first_party=True)
    return client.client_id, str(login_required(authorize(auth, client.client_id)).request.url)


def passkey_rows(auth: AuthClient) -> list[dict[str, Any]]:
    return fetch(auth, "SELECT * FROM passkeys ORDER BY created_at, id")
