"""OpenTelemetry tracing: a server span per request, off unless an OTLP endpoint is configured.

Configuration is OpenTelemetry's own environment (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, ``OTEL_SERVICE_NAME``, ``OTEL_TRACES_SAMPLER``, headers,
...), so collectors and operators configure it as they do every other service. Without an
endpoint nothing is imported and nothing wraps the app: the packages are the optional ``otel``
extra (``requirements/otel.txt``; images: ``--build-arg REQUIREMENTS=otel.txt``).

W3C ``traceparent`` from the caller is continued; the span is named after Litestar's route
template (``GET /api/1/customers/{cpf}``), never the raw path (nor is ``url.path`` recorded: a
path holds personal data, LGPD), and its trace id is put in
``shared.logs.trace_id_var`` so every JSON log line of the request carries ``trace_id``. The span
is opened and closed by ``shared.http.observation.RequestObserver``, the one wrapper that also
captures the status for the access log and the duration metric.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from shared.logs import trace_id_var

if TYPE_CHECKING:
    from litestar.types import HTTPScope
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span

__all__ = ["RequestTracing", "request_tracing", "tracing_configured"]

log = logging.getLogger(__name__)

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_PROPAGATED = frozenset({b"traceparent", b"tracestate"})


def tracing_configured(environ: Mapping[str, str]) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return any(environ.get(name) for name in _ENDPOINT_VARIABLES)


def request_tracing(service_name: str, environ: Mapping[str, str] | None = None) -> RequestTracing | None:
    """The tracing of one app when an OTLP endpoint is set, else ``None`` (and nothing imported).

    Its ``shutdown`` flushes the spans still buffered: run it when the app stops.
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
    log.info("tracing to %s", next(environ[name] for name in _ENDPOINT_VARIABLES if environ.get(name)))
    return RequestTracing(provider)


class RequestTracing:
    """One SERVER span per HTTP request, continuing the caller's trace (W3C ``traceparent``)."""

    __slots__ = ("_error", "_extract", "_server", "provider", "tracer")

    def __init__(self, provider: TracerProvider) -> None:
        from opentelemetry.propagate import extract
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self.provider = provider
        self.tracer = provider.get_tracer("shared.tracing")
        self._extract = extract
        self._server = SpanKind.SERVER
        self._error = Status(StatusCode.ERROR)

    @contextmanager
    def server_span(self, scope: HTTPScope) -> Iterator[Span]:
        """The request's span, current while it runs; its trace id names the request's log lines."""
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k in _PROPAGATED}
        method = scope["method"]
        # No ``url.path``: the raw path is client text (a CPF); ``finish`` adds ``http.route``.
        attributes: dict[str, Any] = {"http.request.method": method}
        with self.tracer.start_as_current_span(
            method, context=self._extract(carrier), kind=self._server, attributes=attributes
        ) as span:
            token = trace_id_var.set(format(span.get_span_context().trace_id, "032x"))
            try:
                yield span
            finally:
                trace_id_var.reset(token)

    def finish(self, span: Span, method: str, route: str | None, status: int) -> None:
        """Name the span after the route template (once routed) and record the answer's status."""
        if route:
            span.update_name(f"{method} {route}")
            span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(self._error)

    def shutdown(self) -> None:
        self.provider.shutdown()
