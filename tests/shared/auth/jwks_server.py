"""A real HTTP server on 127.0.0.1 serving issuer metadata and a JWKS that tests can change, or,
for an issuer that misbehaves, whatever status and bytes a test sets for a path (``raw``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JwksServer:
    def __init__(self) -> None:
        self.jwks: Any = {"keys": []}
        self.raw: dict[str, tuple[int, bytes]] = {}
        """Paths answered with exactly this status and body, before anything else."""
        self.max_age = 300
        self.failing = False
        self.jwks_requests = 0
        self.metadata_issuer: str | None = None
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def serve_issuer(self, keys: Any) -> None:
        """The usual metadata again, and ``keys`` (any JSON) as the JWKS document."""
        self.raw.clear()
        self.jwks = keys

    def serve_json(self, path: str, body: Any) -> None:
        self.raw[path] = (200, json.dumps(body).encode())

    @contextmanager
    def running(self) -> Iterator[JwksServer]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                if self.path in owner.raw:
                    status, body = owner.raw[self.path]
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if owner.failing:
                    self.send_response(503)
                    self.end_headers()
                    return
                if self.path == "/.well-known/oauth-authorization-server":
                    issuer = owner.metadata_issuer or owner.url
                    self._json({"issuer": issuer, "jwks_uri": owner.url + "/jwks.json"})
                elif self.path == "/jwks.json":
                    owner.jwks_requests += 1
                    self._json(owner.jwks, {"Cache-Control": f"public, max-age={owner.max_age}"})
                else:
                    self.send_response(404)
                    self.end_headers()

            def _json(self, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll: shutdown() waits for it, and every test using the server stops one.
        thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
