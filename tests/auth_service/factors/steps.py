"""The browser side of second factors, driven with the TestClient: the account page's TOTP
enrolment, the login's second step, codes computed with pyotp from the secret the page shows."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pyotp
from litestar.testing import TestClient

from auth_service.app import app_for
from auth_service.settings import AuthSettings
from auth_service.wiring import build_services
from tests.auth_service.conftest import AuthClient
from tests.auth_service.login.flow import REQUEST_INPUT, csrf_of, location, submit_login

SECRET = re.compile(r'id="totp_secret"[^>]*>([A-Z2-7 ]+)</code>')
CODE = re.compile(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>")
ACCOUNT_LOGIN = "/login?return_to=%2Faccount"


class Clock:
    """The second factors' clock, moved by the test (TOTP time steps without sleeping)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@contextmanager
def serving_with_clock(settings: AuthSettings, clock: Callable[[], float]) -> Iterator[AuthClient]:
    services = build_services(settings, clock=clock)
    with TestClient(app_for(services)) as client:
        yield AuthClient(client, services)


@dataclass
class Enrolled:
    secret: str
    recovery_codes: list[str]

    def code(self, at: float, steps: int = 0) -> str:
        return pyotp.TOTP(self.secret).at(at + 30 * steps)


def secret_on(page: httpx.Response) -> str:
    match = SECRET.search(page.text)
    assert match, page.text[:2000]
    return match.group(1).replace(" ", "")


def codes_on(page: httpx.Response) -> list[str]:
    return CODE.findall(page.text)


def sign_in_to_account(auth: AuthClient, email: str, password: str) -> httpx.Response:
    """A password login that comes back to ``/account`` (the page, once there)."""
    answer = submit_login(auth, ACCOUNT_LOGIN, email, password)
    assert location(answer) == "/account", location(answer)
    return auth.http.get("/account")


def post_form(auth: AuthClient, page: httpx.Response, path: str, **fields: str) -> httpx.Response:
    return auth.http.post(path, data={"_csrf_token": csrf_of(page), **fields}, follow_redirects=False)


def enrol_totp(auth: AuthClient, password: str, now: float) -> Enrolled:
    """Sets up TOTP on the account page of the signed-in browser: the codes page it ends on."""
    setup = auth.http.get("/account/totp")
    assert setup.status_code == 200, setup.text[:1000]
    secret = secret_on(setup)
    done = post_form(auth, setup, "/account/totp", code=pyotp.TOTP(secret).at(now), password=password)
    assert done.status_code == 200, done.text[:1000]
    return Enrolled(secret, codes_on(done))


def second_step(auth: AuthClient, path: str, method: str, code: str) -> httpx.Response:
    """Answers the second-step page at ``path`` with a code of kind ``method``."""
    page = auth.http.get(path)
    assert page.status_code == 200, page.text[:1000]
    form: dict[str, Any] = {"_csrf_token": csrf_of(page), "method": method, "code": code}
    found = REQUEST_INPUT.search(page.text)
    if found:
        form["request"] = html.unescape(found.group(1))
    return auth.http.post("/login/second-factor", data=form, follow_redirects=False)


def sign_out(auth: AuthClient) -> None:
    auth.http.cookies.clear()
