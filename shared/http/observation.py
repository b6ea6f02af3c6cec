"""One ASGI wrapper per request: request id, access log, duration metric and (when on) the span.

It wraps the whole app (outside Litestar's routing), so 404s for unknown routes, 405s, 431s and
500s are logged, counted and carry ``X-Request-ID`` too; Litestar's ``middleware=`` runs per route,
after routing, and never sees them. A caller-supplied id is kept when it looks like an id (so a
trace across services keeps one id); anything else is replaced by a fresh one.

Log lines and spans name the route template (``/api/1/customers/{cpf}``), never the path the
client sent: a path holds personal data (a CPF, LGPD) and, for a 404 or 405, arbitrary client
text. A request no route matched is logged as ``unmatched``, the label the metric gives it.

The response status is captured once, by one ``send`` wrapper, and fed to the three consumers in
the order they need: the access log line is written inside the span (so it carries ``trace_id``)
and before the duration is measured (so the metric includes it). Three separate middlewares,
each wrapping ``send``, cost every request two more coroutines and closures for the same status.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Set
from typing import TYPE_CHECKING

from litestar.enums import ScopeType

from shared.logs import request_id_var
from shared.metrics.requests import UNMATCHED_ROUTE

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
    from opentelemetry.trace import Span

    from shared.metrics.requests import RequestDurations
    from shared.tracing import RequestTracing

__all__ = ["QUIET_PATHS", "UNMATCHED_ROUTE", "RequestObserver", "observe_requests"]

access_log = logging.getLogger("access")

QUIET_PATHS = frozenset({"/healthz", "/metrics"})
"""Probed every few seconds: counted and traced, but no access log line."""

_VALID_ID = re.compile(rb"^[A-Za-z0-9._\-]{8,64}$")


class RequestObserver:
    """Plain ASGI middleware; ``durations`` and ``tracing`` are optional (``None``: not fed)."""

    __slots__ = ("app", "durations", "quiet_paths", "tracing")

    def __init__(
        self,
        app: ASGIApp,
        *,
        durations: RequestDurations | None = None,
        tracing: RequestTracing | None = None,
        quiet_paths: Set[str] = QUIET_PATHS,
    ) -> None:
        self.app = app
        self.durations = durations
        self.tracing = tracing
        self.quiet_paths = quiet_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
        elif self.tracing is None:
            await self._observe(scope, receive, send, None)
        else:
            with self.tracing.server_span(scope) as span:
                await self._observe(scope, receive, send, span)

    async def _observe(self, scope: HTTPScope, receive: Receive, send: Send, span: Span | None) -> None:
        method = scope["method"]
        request_id = _incoming_id(scope) or os.urandom(16).hex()  # uuid4().hex's shape, a third of its cost
        token = request_id_var.set(request_id)
        header = (b"x-request-id", request_id.encode())
        status = 500
        started = time.perf_counter()

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            # Litestar's router writes the route template into the scope once a route matched.
            # The raw path is client text (a CPF in /api/1/customers/{cpf}); it is never logged.
            route = scope.get("path_template")
            if scope["path"] not in self.quiet_paths and access_log.isEnabledFor(logging.INFO):
                logged = route or UNMATCHED_ROUTE
                access_log.info(
                    "%s %s %d",
                    method,
                    logged,
                    status,
                    extra={
                        "method": method,
                        "route": logged,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            request_id_var.reset(token)
            if self.durations is not None:
                self.durations.observe_request(method, route, status, time.perf_counter() - started)
            if span is not None and self.tracing is not None:
                self.tracing.finish(span, method, route, status)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            return value.decode() if _VALID_ID.match(value) else None
    return None


def observe_requests(
    app: Litestar, durations: RequestDurations | None = None, tracing: RequestTracing | None = None
) -> None:
    """Wrap Litestar's outermost handler; call it last, so it sees every answer (431s included)."""
    app.asgi_handler = RequestObserver(app.asgi_handler, durations=durations, tracing=tracing)
