"""A tiny relying party (an app that logs its people in with the provider) for the browser test.

A ``ThreadingHTTPServer`` on 127.0.0.1 in a daemon thread: ``/login`` starts an authorization code
flow with PKCE S256, ``state`` and ``nonce``; ``/callback`` checks ``iss`` (RFC 9207) and
``state``, exchanges the code server-side, verifies the ID token with PyJWT against the provider's
JWKS (signature, ``iss``, ``aud``, ``nonce``, ``at_hash``) and shows who logged in; ``/logout``
sends the browser to the provider's ``end_session_endpoint`` with ``id_token_hint``;
``/logged-out`` checks the ``state`` it comes back with. It keeps no cookie of its own (pending
flows are keyed by ``state``), so two of them on 127.0.0.1 never see each other's state.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt

__all__ = ["RelyingParty", "at_hash", "pkce_pair"]

SCOPE = "openid profile email customers:read"
_HALF_HASH = {"RS256": hashlib.sha256, "ES256": hashlib.sha256, "EdDSA": hashlib.sha512}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def at_hash(access_token: str, alg: str) -> str:
    """OIDC Core 3.1.3.6: the left half of the hash of ``alg`` (SHA-512 for EdDSA with Ed25519)."""
    digest = _HALF_HASH[alg](access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def _page(title: str, body: str) -> bytes:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    ).encode()


class RelyingParty:
    """One app: its client registration, the provider's metadata, what it learnt at login."""

    def __init__(self, name: str, metadata: dict[str, Any]) -> None:
        self.name, self.metadata = name, metadata
        self.client: dict[str, Any] = {}
        self.pending: dict[str, tuple[str, str]] = {}  # state -> (code_verifier, nonce)
        self.logins: list[dict[str, Any]] = []  # each login: ID token claims + token response
        self.logout_state = ""
        self.jwks = jwt.PyJWKClient(metadata["jwks_uri"])
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"{self.url}/callback"

    def start(self, client: dict[str, Any]) -> RelyingParty:
        self.client = client
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ the flow
    def authorization_url(self) -> str:
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.pending[state] = (verifier, nonce)
        query = {
            "response_type": "code",
            "client_id": self.client["client_id"],
            "redirect_uri": self.redirect_uri,
            "scope": SCOPE,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.metadata['authorization_endpoint']}?{urlencode(query)}"

    def _token_request(self, form: dict[str, str]) -> httpx.Response:
        secret = self.client.get("client_secret")
        endpoint = self.metadata["token_endpoint"]
        if secret:
            return httpx.post(endpoint, data=form, auth=(self.client["client_id"], secret), timeout=30)
        return httpx.post(endpoint, data={**form, "client_id": self.client["client_id"]}, timeout=30)

    def callback(self, query: dict[str, str]) -> tuple[int, bytes]:
        if "error" in query:
            error = html.escape(query["error"])
            return 400, _page(f"{self.name}: login failed", f"<p id='error'>{error}</p>")
        if query.get("iss") != self.metadata["issuer"] or query.get("state") not in self.pending:
            return 400, _page(f"{self.name}: login failed", "<p id='error'>bad iss or state</p>")
        verifier, nonce = self.pending.pop(query["state"])
        answer = self._token_request(
            {
                "grant_type": "authorization_code",
                "code": query["code"],
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            }
        )
        if answer.status_code != 200:
            return 502, _page(f"{self.name}: token exchange failed", f"<pre>{html.escape(answer.text)}</pre>")
        tokens = answer.json()
        claims = self.verify_id_token(tokens["id_token"], nonce, tokens["access_token"])
        self.logins.append({"claims": claims, "tokens": tokens})
        rows = "".join(
            f"<dt>{key}</dt><dd id='{key}'>{html.escape(str(claims.get(key, '')))}</dd>"
            for key in ("email", "name", "sub", "sid", "auth_time", "amr", "acr")
        )
        body = f"<p id='who'>Signed in as {html.escape(str(claims.get('email')))}</p><dl>{rows}</dl>"
        body += "<p><a id='logout' href='/logout'>Log out</a></p>"
        return 200, _page(f"{self.name}: signed in", body)

    def verify_id_token(self, token: str, nonce: str, access_token: str) -> dict[str, Any]:
        key = self.jwks.get_signing_key_from_jwt(token)
        header = jwt.get_unverified_header(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=self.metadata["id_token_signing_alg_values_supported"],
            audience=self.client["client_id"],
            issuer=self.metadata["issuer"],
            options={"require": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce"]},
        )
        assert claims["nonce"] == nonce, "nonce"
        assert claims["at_hash"] == at_hash(access_token, header["alg"]), "at_hash"
        return claims

    def end_session_url(self) -> str:
        self.logout_state = secrets.token_urlsafe(12)
        query = {
            "id_token_hint": self.logins[-1]["tokens"]["id_token"],
            "post_logout_redirect_uri": f"{self.url}/logged-out",
            "state": self.logout_state,
        }
        return f"{self.metadata['end_session_endpoint']}?{urlencode(query)}"

    def refresh(self, login: int = -1) -> httpx.Response:
        """The refresh grant with the refresh token of one of its logins (the last by default)."""
        refresh_token = self.logins[login]["tokens"]["refresh_token"]
        return self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    # ------------------------------------------------------------------ HTTP
    def _answer(self, path: str, query: dict[str, str]) -> tuple[int, bytes, str | None]:
        """(status, body, Location)"""
        if path == "/":
            body = _page(self.name, "<p><a id='login' href='/login'>Log in</a></p>")
            return 200, body, None
        if path == "/login":
            return 302, b"", self.authorization_url()
        if path == "/callback":
            return (*self.callback(query), None)
        if path == "/logout":
            return 302, b"", self.end_session_url()
        if path == "/logged-out":
            ok = query.get("state") == self.logout_state
            text = "<p id='bye'>You are signed out.</p>" if ok else "<p id='error'>bad state</p>"
            return (200 if ok else 400), _page(f"{self.name}: signed out", text), None
        return 404, _page("not found", ""), None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {key: values[0] for key, values in parse_qs(parts.query).items()}
                status, body, location = app._answer(parts.path, query)
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
