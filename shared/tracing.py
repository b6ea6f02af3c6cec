"""OpenTelemetry tracing: a server span per request, off unless an OTLP endpoint is configured.

Configuration is OpenTelemetry's own environment (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, ``OTEL_SERVICE_NAME``, ``OTEL_TRACES_SAMPLER``, headers,
...), so collectors and operators configure it as they do every other service. Without an
endpoint nothing is imported and nothing wraps the app: the packages are the optional ``otel``
extra (``requirements/otel.txt``; images: ``--build-arg REQUIREMENTS=otel.txt``).

W3C ``traceparent`` from the caller is continued; the span is named after Litestar's route
template (``GET /api/1/customers/{cpf}``), never the raw path, and its trace id is put in
``shared.logs.trace_id_var`` so every JSON log line of the request carries ``trace_id``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from litestar.enums import ScopeType

from shared.logs import trace_id_var

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp, Message, Receive, Scope, Send
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Tracer

__all__ = ["TracingMiddleware", "install_tracing", "tracing_configured"]

log = logging.getLogger(__name__)

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_PROPAGATED = frozenset({b"traceparent", b"tracestate"})


def tracing_configured(environ: Mapping[str, str]) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return any(environ.get(name) for name in _ENDPOINT_VARIABLES)


def install_tracing(
    app: Litestar, service_name: str, environ: Mapping[str, str] | None = None
) -> TracerProvider | None:
    """Wrap the app in a tracing middleware when an OTLP endpoint is set; return the provider.

    Call it last in ``create_app`` (after the request log), so the access log line is written
    inside the span and carries its trace id. The provider is flushed on shutdown.
    """
    environ = os.environ if environ is None else environ
    if not tracing_configured(environ):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME") or service_name})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    app.asgi_handler = TracingMiddleware(app.asgi_handler, provider.get_tracer("shared.tracing"))
    app.on_shutdown.append(provider.shutdown)
    log.info("tracing to %s", next(environ[name] for name in _ENDPOINT_VARIABLES if environ.get(name)))
    return provider


class TracingMiddleware:
    """Plain ASGI middleware: one SERVER span per HTTP request, continuing the caller's trace."""

    __slots__ = ("_error", "_extract", "_server", "app", "tracer")

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        from opentelemetry.propagate import extract
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self.app = app
        self.tracer = tracer
        self._extract = extract
        self._server = SpanKind.SERVER
        self._error = Status(StatusCode.ERROR)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k in _PROPAGATED}
        method = scope["method"]
        attributes: dict[str, Any] = {"http.request.method": method, "url.path": scope["path"]}
        with self.tracer.start_as_current_span(
            method, context=self._extract(carrier), kind=self._server, attributes=attributes
        ) as span:
            token = trace_id_var.set(format(span.get_span_context().trace_id, "032x"))
            status = 500

            async def send_recording_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await self.app(scope, receive, send_recording_status)
            finally:
                route = scope.get("path_template")
                if route:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(self._error)
                trace_id_var.reset(token)
