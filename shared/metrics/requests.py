"""Request count and latency by method, route template and status: the per-request hot path.

Every request of the customer API goes through this, so it avoids prometheus-client's labelled
``Histogram``, which takes a lock and builds a label tuple per observation. Everything runs on the
event loop thread, so ``RequestDurations`` keeps plain lists per (method, route, status) and turns
them into a histogram only when scraped; its ``_count`` is the request counter. Routes are
Litestar's path templates (``/api/1/customers/{cpf}``), never raw paths, and unknown methods
fold into ``OTHER``, so a scanner cannot create series.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.metrics_core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["LATENCY_BUCKETS", "UNMATCHED_ROUTE", "RequestDurations"]

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

    def observe_request(self, method: str, route: str | None, status: int, seconds: float) -> None:
        """One answered request, labelled so that no client input can create a series: unknown
        methods fold into ``OTHER`` and requests no route matched (``route`` None) into
        ``unmatched``."""
        self.observe(method if method in _METHODS else "OTHER", route or UNMATCHED_ROUTE, status, seconds)

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
