"""Request ids and the one-line access log, as a plain ASGI middleware.

It wraps the whole app (outside Litestar's routing), so 404s for unknown routes and 500s are
logged and carry ``X-Request-ID`` too. A caller-supplied id is kept when it looks like an id
(so a trace across services keeps one id); anything else is replaced by a fresh one.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import TYPE_CHECKING

from litestar.enums import ScopeType

from shared.logs import request_id_var

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestLogMiddleware", "install_request_log"]

access_log = logging.getLogger("access")

_VALID_ID = re.compile(rb"^[A-Za-z0-9._\-]{8,64}$")


class RequestLogMiddleware:
    __slots__ = ("app", "quiet_paths")

    def __init__(
        self, app: ASGIApp, quiet_paths: frozenset[str] = frozenset({"/healthz", "/metrics"})
    ) -> None:
        self.app = app
        self.quiet_paths = quiet_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        request_id = _incoming_id(scope) or os.urandom(16).hex()  # uuid4().hex's shape, a third of its cost
        token = request_id_var.set(request_id)
        header = (b"x-request-id", request_id.encode())
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope["path"]
            if path not in self.quiet_paths and access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %d",
                    method,
                    path,
                    status,
                    extra={
                        "method": method,
                        "path": path,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            request_id_var.reset(token)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            return value.decode() if _VALID_ID.match(value) else None
    return None


def install_request_log(app: Litestar) -> None:
    """Wrap Litestar's outermost handler, so unknown routes and 500s are logged and carry an id.

    Litestar's ``middleware=`` runs per route, after routing; a 404 for an unknown path never
    reaches it.
    """
    app.asgi_handler = RequestLogMiddleware(app.asgi_handler)
