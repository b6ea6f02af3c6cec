"""``auth-service login``: a person's tokens for the command line, without giving any client a password.

Like ``gcloud auth login``: by default an authorization code flow with PKCE (RFC 7636) through the
system browser to a loopback redirect (RFC 8252 sections 7.3 and 8.3: ``http://127.0.0.1:<port>``,
any free port, which the seeded public client ``auth-cli`` is allowed), the code exchanged here.
``--device`` uses the device authorization grant (RFC 8628) instead, for a machine without a
browser: it prints a URL and a code to open elsewhere and polls. The endpoints come from the
issuer's discovery document. Progress goes to stderr; the token response is the only stdout (or
the ``--output`` file, created with mode 0600: it holds a refresh token).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

__all__ = ["LoginFailed", "LoginRequest", "device_login", "loopback_login", "write_tokens"]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><p>{text}</p></body></html>"""
_DONE_PAGE = _PAGE.format(
    title="Signed in", text="You are signed in. You can close this window and return to the terminal."
).encode()
_FAILED_PAGE = _PAGE.format(
    title="Not signed in", text="The sign-in did not complete. Return to the terminal for details."
).encode()


class LoginFailed(Exception):
    """What the person reads on stderr (and the exit status is 1)."""


@dataclass(frozen=True)
class LoginRequest:
    issuer: str
    client_id: str = "auth-cli"
    scope: str | None = None
    resources: tuple[str, ...] = ()
    timeout: float = 300.0
    """Seconds to wait for the person to finish in the browser."""
    say: Callable[[str], None] = print
    open_browser: bool = True
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30.0))

    def endpoints(self) -> dict[str, Any]:
        url = f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
        try:
            response = self.http.get(url)
        except httpx.HTTPError as exc:
            raise LoginFailed(f"cannot reach {url}: {exc}") from None
        if response.status_code != 200:
            raise LoginFailed(f"{url} answered {response.status_code}")
        document: dict[str, Any] = response.json()
        return document

    def asked(self) -> dict[str, str | list[str]]:
        """``scope`` and ``resource`` (repeated, RFC 8707) when given; else the client's defaults."""
        form: dict[str, str | list[str]] = {}
        if self.scope:
            form["scope"] = self.scope
        if self.resources:
            form["resource"] = list(self.resources)
        return form

    def token(self, endpoint: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            response = self.http.post(endpoint, data={**form, "client_id": self.client_id})
        except httpx.HTTPError as exc:
            raise LoginFailed(f"cannot reach {endpoint}: {exc}") from None
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            raise LoginFailed(f"{endpoint} answered {response.status_code} without JSON") from None
        return response.status_code, body


def _endpoint(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise LoginFailed(f"the issuer's discovery document has no {name}")
    return value


def _oauth_error(body: dict[str, Any]) -> str:
    description = body.get("error_description")
    return f"{body.get('error')}: {description}" if description else str(body.get("error"))


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class _Callback(http.server.BaseHTTPRequestHandler):
    """One redirect to ``/callback``: keep its query, show a page that says where to look."""

    server: _CallbackServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/callback":
            self.send_error(404)
            return
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        ok = "code" in query
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(_DONE_PAGE if ok else _FAILED_PAGE)
        self.server.answer(query)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows our progress only."""


class _CallbackServer(http.server.HTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Callback)
        self.query: dict[str, str] | None = None
        self.arrived = threading.Event()

    def answer(self, query: dict[str, str]) -> None:
        if not self.arrived.is_set():
            self.query = query
            self.arrived.set()


def loopback_login(request: LoginRequest) -> dict[str, Any]:
    """The authorization code flow with PKCE to ``http://127.0.0.1:<free port>/callback``."""
    endpoints = request.endpoints()
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(16)
    server = _CallbackServer()
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        query = {
            "response_type": "code",
            "client_id": request.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **request.asked(),
        }
        url = f"{_endpoint(endpoints, 'authorization_endpoint')}?{urlencode(query, doseq=True)}"
        request.say(f"Open this URL in a browser to sign in:\n\n    {url}\n")
        if request.open_browser:
            webbrowser.open(url)
        if not server.arrived.wait(request.timeout):
            raise LoginFailed(f"no answer from the browser within {request.timeout:.0f} s")
    finally:
        server.shutdown()
        server.server_close()
    answer = server.query or {}
    if answer.get("state") != state:
        raise LoginFailed("the answer's state does not match this login (a forged redirect?)")
    if "iss" in answer and answer["iss"] != endpoints.get("issuer"):  # RFC 9207: mix-up defence
        raise LoginFailed(f"the answer came from {answer['iss']}, not {endpoints.get('issuer')}")
    if "code" not in answer:
        raise LoginFailed(f"sign-in refused: {_oauth_error(answer)}")
    form = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    status, body = request.token(_endpoint(endpoints, "token_endpoint"), form)
    if status != 200:
        raise LoginFailed(f"the code exchange failed: {_oauth_error(body)}")
    return body


def device_login(request: LoginRequest, *, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """The device authorization grant: show where to go and the code, then poll (RFC 8628 3.4-3.5)."""
    endpoints = request.endpoints()
    try:
        response = request.http.post(
            _endpoint(endpoints, "device_authorization_endpoint"),
            data={"client_id": request.client_id, **request.asked()},
        )
        started: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise LoginFailed(f"cannot start a device login: {exc}") from None
    if response.status_code != 200:
        raise LoginFailed(f"the device login was refused: {_oauth_error(started)}")
    request.say(
        f"On any device, open {started['verification_uri']} and enter the code {started['user_code']}"
        f"\n(or open {started['verification_uri_complete']})\n"
    )
    interval, deadline = float(started["interval"]), time.monotonic() + float(started["expires_in"])
    form = {"grant_type": DEVICE_GRANT, "device_code": started["device_code"]}
    while time.monotonic() < deadline:
        sleep(interval)
        status, body = request.token(_endpoint(endpoints, "token_endpoint"), form)
        if status == 200:
            return body
        error = body.get("error")
        if error == "slow_down":
            interval += 5
        elif error != "authorization_pending":
            raise LoginFailed(f"the device login failed: {_oauth_error(body)}")
    raise LoginFailed("the code expired before it was approved")


def write_tokens(tokens: dict[str, Any], output: str | None) -> None:
    """Print the token response, or write it to ``output`` readable by its owner only."""
    text = json.dumps(tokens, indent=2, sort_keys=True) + "\n"
    if output is None:
        print(text, end="")
        return
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        os.fchmod(file.fileno(), 0o600)  # an existing file keeps no wider mode
        file.write(text)
