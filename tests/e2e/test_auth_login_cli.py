"""``auth-service login`` as a real process against the real auth service process.

The person's side is driven over HTTP as a browser would (cookies, the login form with its CSRF
token, the redirects): for the default loopback flow the test opens the URL the command prints and
its final redirect lands on the command's own listener; for ``--device`` the test types the code
the command prints into ``/device`` and allows it. Either way the command ends with the tokens,
which open the auth service's own API.
"""

from __future__ import annotations

import html
import json
import os
import re
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pyotp
import pytest

from tests.auth_service.conftest import new_kek
from tests.conftest import ROOT
from tests.ecosystem import bootstrap_admin
from tests.processes import ServiceProcess

pytestmark = pytest.mark.e2e

ADMIN = ("cli.admin@example.com", "a passphrase typed only into the page")
FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]*)"[^>]*>(.*?)</form>', re.S | re.I)
TOTP_SECRET = re.compile(r'id="totp_secret"[^>]*>([A-Z2-7 ]+)</code>')
HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', re.I)


@pytest.fixture
def service(auth_db: str, redis_url: str, redis_namespace: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    env = {
        "AUTH_DATABASE_URL": auth_db,
        "AUTH_REDIS_URL": redis_url,
        "AUTH_REDIS_PREFIX": f"{redis_namespace}:login-cli:",
        "AUTH_KEY_ENCRYPTION_KEY": new_kek(),
        "AUTH_ARGON2_MEMORY_KIB": "1024",
        "AUTH_ARGON2_TIME_COST": "1",
        "AUTH_BOOTSTRAP_ADMIN_EMAIL": ADMIN[0],
        "AUTH_BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
        "AUTH_DEVICE_POLL_INTERVAL": "1",
    }
    bootstrap_admin(env)
    process = ServiceProcess("auth_service", env, tmp_path).start()
    try:
        yield process
    finally:
        process.stop()


class Command:
    """The command running, its stderr read line by line in the background."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "auth_service", "login", "--no-browser", "--timeout", "60", *args],
            cwd=ROOT,
            env={key: value for key, value in os.environ.items() if not key.startswith("AUTH_")},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._seen = threading.Condition()
        assert self.process.stderr is not None
        self._reader = threading.Thread(target=self._read, args=(self.process.stderr,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        with self._seen:
            found: list[re.Match[str]] = []

            def seen() -> bool:
                found[:] = [m for m in (re.search(pattern, "".join(self.lines)),) if m]
                return bool(found) or self.process.poll() is not None

            self._seen.wait_for(seen, timeout)
        assert found, f"not printed: {pattern}\n{''.join(self.lines)}"
        return found[0]

    def finish(self) -> tuple[int, str]:
        """The exit status and stdout, once stderr has been read to its end."""
        assert self.process.stdout is not None
        stdout = self.process.stdout.read()
        self.process.wait(timeout=60)
        self._reader.join(timeout=10)
        return self.process.returncode, stdout


def submit(http: httpx.Client, page: httpx.Response, **fields: str) -> httpx.Response:
    """Post the page's form (its hidden fields, CSRF token included) with ``fields`` added."""
    match = FORM.search(page.text)
    assert match is not None, page.text
    hidden = {name: html.unescape(value) for name, value in HIDDEN.findall(match.group(2))}
    return http.post(page.url.join(html.unescape(match.group(1))), data={**hidden, **fields})


def log_in(http: httpx.Client, page: httpx.Response) -> httpx.Response:
    """The admin's login; the ``admin`` role requires a second factor, so the first login sets up
    TOTP (the code computed from the secret the page shows) and goes on past the recovery codes."""
    assert 'name="password"' in page.text, page.text  # /oauth/authorize answers with the form
    landed = submit(http, page, email=ADMIN[0], password=ADMIN[1])
    secret = TOTP_SECRET.search(landed.text)
    if secret is None:
        return landed
    codes = submit(http, landed, code=pyotp.TOTP(secret.group(1).replace(" ", "")).now())
    assert "recovery codes" in codes.text, codes.text
    return submit(http, codes)


def opens_own_api(service: ServiceProcess, tokens: dict[str, Any]) -> None:
    me = httpx.get(
        f"{service.url}/api/1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200, me.text
    assert me.json()["email"] == ADMIN[0]


def test_the_loopback_code_flow_prints_the_tokens(service: ServiceProcess) -> None:
    command = Command("--issuer", service.url, "--resource", "auth", "--scope", "openid admin:users")
    url = command.wait_for(r"(http://\S+/oauth/authorize\?\S+)").group(1)
    assert "code_challenge_method=S256" in url
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url
    with httpx.Client(timeout=30, follow_redirects=True) as browser:
        landed = log_in(browser, browser.get(url))
        assert landed.status_code == 200, landed.text
        assert "You are signed in" in landed.text  # the command's own page on 127.0.0.1
    code, stdout = command.finish()
    assert code == 0, "".join(command.lines)
    tokens = json.loads(stdout)
    assert {"access_token", "refresh_token", "id_token"} <= set(tokens)
    opens_own_api(service, tokens)


def test_the_device_flow_writes_the_tokens_to_a_private_file(service: ServiceProcess, tmp_path: Path) -> None:
    output = tmp_path / "tokens.json"
    command = Command("--device", "--issuer", service.url, "--resource", "auth", "--output", str(output))
    code = command.wait_for(r"enter the code ([A-Z]{4}-[A-Z]{4})").group(1)
    with httpx.Client(base_url=service.url, timeout=30, follow_redirects=True) as browser:
        confirmation = log_in(browser, browser.get("/device", params={"user_code": code}))
        assert confirmation.status_code == 200, confirmation.text
        assert code in confirmation.text
        done = submit(browser, confirmation, action="allow")
        assert "Device connected" in done.text
    status, stdout = command.finish()
    assert status == 0, "".join(command.lines)
    assert stdout == ""  # the tokens went to the file only
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    opens_own_api(service, json.loads(output.read_text()))


def test_a_denied_device_login_fails_with_the_reason(service: ServiceProcess) -> None:
    command = Command("--device", "--issuer", service.url)
    code = command.wait_for(r"enter the code ([A-Z]{4}-[A-Z]{4})").group(1)
    with httpx.Client(base_url=service.url, timeout=30, follow_redirects=True) as browser:
        confirmation = log_in(browser, browser.get("/device", params={"user_code": code}))
        submit(browser, confirmation, action="deny")
    status, stdout = command.finish()
    assert status == 1
    assert stdout == ""
    assert "access_denied" in "".join(command.lines)
