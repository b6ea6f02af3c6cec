"""panva's ``openid-client`` (node) logs in with our provider, configured from discovery only.

The issue's new user tried exactly this and failed for missing metadata: discovery,
``buildAuthorizationUrl``, the code exchange with PKCE (``authorizationCodeGrant``: ``state``,
``iss`` (RFC 9207), ``nonce`` and, with ``enableNonRepudiationChecks``, the ID token's signature
checked by its own JOSE code against our JWKS), ``fetchUserInfo`` (``sub`` matched),
``buildEndSessionUrl`` (then followed: the session ends), and ``initiateDeviceAuthorization`` with
polling once the person approved. The person's part (login, consent, the device page) is driven
from Python over HTTP. The npm package is installed in a cache folder outside the repository; the
tests skip with one line without node or npm.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode, urlsplit

import pytest

from tests.browser.form_driver import Person
from tests.browser.provider import Provider, running_provider
from tests.node_packages import npm_package_home

pytestmark = pytest.mark.e2e

OPENID_CLIENT = "6.9.0"
FLOW = Path(__file__).parent / "oidc_node_client" / "flow.mjs"
PASSWORD = "openid-client logs this person in 7"
REDIRECT_URI = "http://127.0.0.1:59997/callback"
LOGGED_OUT = "http://127.0.0.1:59997/logged-out"
SCOPE = "openid profile email customers:read"


def openid_client_home() -> Path:
    """A folder with ``openid-client`` installed, kept between runs outside the repository."""
    home = npm_package_home("openid-client", OPENID_CLIENT)
    shutil.copyfile(FLOW, home / "flow.mjs")  # ESM resolves openid-client from the script's folder
    return home


class NodeFlow:
    """``node flow.mjs ...`` as a conversation: read its JSON lines, answer on its stdin."""

    def __init__(self, home: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            ["node", str(home / "flow.mjs"), *args],
            cwd=home,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def _pipe(self, pipe: IO[str] | None) -> IO[str]:
        assert pipe is not None
        return pipe

    def read(self, step: str) -> dict[str, Any]:
        line = self._pipe(self.process.stdout).readline()
        if not line:
            self.process.wait(10)
            raise AssertionError(
                f"node exited {self.process.returncode}: {self._pipe(self.process.stderr).read()}"
            )
        said: dict[str, Any] = json.loads(line)
        assert said["step"] == step, said
        return said

    def answer(self, text: str) -> None:
        stdin = self._pipe(self.process.stdin)
        stdin.write(text + "\n")
        stdin.flush()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture(scope="module")
def home() -> Path:
    return openid_client_home()


@pytest.fixture(scope="module")
def provider(
    home: Path,
    pg_server_url: str,
    auth_template: str,
    redis_url: str,
    redis_namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Provider]:
    folder = tmp_path_factory.mktemp("openid-client")
    extra = {"AUTH_DEVICE_POLL_INTERVAL": "1"}
    with running_provider(pg_server_url, auth_template, redis_url, redis_namespace, folder, extra) as running:
        yield running


@pytest.fixture
def app(provider: Provider) -> dict[str, Any]:
    """A public third-party app (no secret: PKCE is its proof), with the device grant too."""
    return provider.register_client(
        "node app",
        REDIRECT_URI,
        post_logout_redirect_uris=[LOGGED_OUT],
        token_endpoint_auth_method="none",
        grant_types=["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
    )


@pytest.fixture
def person(provider: Provider) -> Iterator[tuple[dict[str, Any], Person]]:
    user = provider.create_person(PASSWORD, name="Caio Reis", email_verified=True)
    driver = Person(user["email"], PASSWORD)
    try:
        yield user, driver
    finally:
        driver.close()


def test_code_flow_userinfo_and_end_session(
    home: Path, provider: Provider, app: dict[str, Any], person: tuple[dict[str, Any], Person]
) -> None:
    user, browser = person
    flow = NodeFlow(home, "code", provider.issuer, app["client_id"], REDIRECT_URI, LOGGED_OUT, SCOPE)
    try:
        authorize = urlsplit(flow.read("authorize")["url"])
        assert (
            f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{provider.issuer}/oauth/authorize"
        )
        back = browser.authorize(authorize.geturl(), REDIRECT_URI)
        flow.answer(f"{REDIRECT_URI}?{urlencode(back)}")
        done = flow.read("done")
    finally:
        flow.close()
    claims, userinfo = done["claims"], done["userinfo"]
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == app["client_id"]
    assert claims["sub"] == userinfo["sub"] == user["id"]
    assert (userinfo["email"], userinfo["email_verified"], userinfo["name"]) == (
        user["email"],
        True,
        "Caio Reis",
    )
    assert set(done["scope"].split()) == set(SCOPE.split())

    end_session = urlsplit(done["end_session_url"])
    assert (
        f"{end_session.scheme}://{end_session.netloc}{end_session.path}" == f"{provider.issuer}/oauth/logout"
    )
    logged_out = browser.http.get(done["end_session_url"])
    assert logged_out.status_code in (302, 303), logged_out.text
    assert logged_out.headers["location"] == f"{LOGGED_OUT}?{urlencode({'state': done['logout_state']})}"


def test_a_tampered_callback_is_refused_by_openid_client(
    home: Path, provider: Provider, app: dict[str, Any], person: tuple[dict[str, Any], Person]
) -> None:
    """The library does check: the same flow with the state altered on the way back fails."""
    _, browser = person
    flow = NodeFlow(home, "code", provider.issuer, app["client_id"], REDIRECT_URI, LOGGED_OUT, SCOPE)
    try:
        back = browser.authorize(flow.read("authorize")["url"], REDIRECT_URI)
        flow.answer(f"{REDIRECT_URI}?{urlencode({**back, 'state': 'altered'})}")
        refused = flow.read("error")
    finally:
        flow.close()
    assert refused["code"] == "OAUTH_INVALID_RESPONSE", refused
    assert '"state"' in refused["cause"], refused


def test_device_authorization_with_polling(
    home: Path, provider: Provider, app: dict[str, Any], person: tuple[dict[str, Any], Person]
) -> None:
    user, browser = person
    flow = NodeFlow(home, "device", provider.issuer, app["client_id"], SCOPE)
    try:
        device = flow.read("device")
        assert device["verification_uri"] == f"{provider.issuer}/device"
        browser.user_code = device["user_code"]
        shown = browser.visit(device["verification_uri_complete"], stop_at="http://never.invalid/")
        assert shown.status_code == 200, shown.text[:300]
        assert "/login" in browser.pages, "the device page sits behind the same login"
        done = flow.read("done")
    finally:
        flow.close()
    assert done["claims"]["sub"] == user["id"]
    assert done["claims"]["aud"] == app["client_id"]
    assert "openid" in done["scope"].split()
