"""Request count and latency by method, route template and status: the per-request hot path.

Every request of the customer API goes through this, so it avoids prometheus-client's labelled
``Histogram``, which takes a lock and builds a label tuple per observation. Everything runs on the
event loop thread, so ``RequestDurations`` keeps plain lists per (method, route, status) and turns
them into a histogram only when scraped; its ``_count`` is the request counter. Routes are
Litestar's path templates (``/api/1/customers/{cpf}``), never raw paths, and unknown methods
fold into ``OTHER``, so a scanner cannot create series.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from litestar.enums import ScopeType
from prometheus_client.metrics_core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from shared.metrics.service import ServiceMetrics

__all__ = [
    "LATENCY_BUCKETS",
    "UNMATCHED_ROUTE",
    "RequestDurations",
    "RequestMetricsMiddleware",
    "install_request_metrics",
]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE = "unmatched"
"""Route label of requests no route handled (404, 405): their raw paths never become labels."""

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestDurations(Collector):
    """``http_server_request_duration_seconds{method,route,status}`` without a lock per request."""

    __slots__ = ("_bounds", "_series")

    def __init__(self, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self._bounds = tuple(sorted(buckets))
        # Per series: one non-cumulative count per bucket, then +Inf's, then the sum of durations.
        self._series: dict[tuple[str, str, int], list[float]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = [0.0] * (len(self._bounds) + 2)
        series[bisect_left(self._bounds, seconds)] += 1
        series[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(
            "http_server_request_duration_seconds",
            "Time from request start to the last response byte, by method, route template and status.",
            labels=("method", "route", "status"),
        )
        edges = [*(repr(bound) for bound in self._bounds), "+Inf"]
        for (method, route, status), series in list(self._series.items()):
            running = 0.0
            buckets = []
            for edge, count in zip(edges, series[:-1], strict=True):
                running += count
                buckets.append((edge, running))
            family.add_metric((method, route, str(status)), buckets, series[-1])
        yield family


class RequestMetricsMiddleware:
    """Plain ASGI middleware around the whole app, so 404s, 405s and 500s are counted too."""

    __slots__ = ("app", "durations")

    def __init__(self, app: ASGIApp, durations: RequestDurations) -> None:
        self.app = app
        self.durations = durations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            method = scope["method"]
            self.durations.observe(
                method if method in _METHODS else "OTHER",
                # Litestar's router writes the template into the scope once a route matched.
                scope.get("path_template") or UNMATCHED_ROUTE,
                status,
                time.perf_counter() - started,
            )


def install_request_metrics(app: Litestar, metrics: ServiceMetrics) -> None:
    """Wrap Litestar's outermost handler (as ``install_request_log`` does), so every response counts.

    Call it after ``install_request_log`` so the measured time includes the access log line.
    """
    app.asgi_handler = RequestMetricsMiddleware(app.asgi_handler, metrics.requests)
