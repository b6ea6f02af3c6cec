"""Prometheus metrics for both services: one registry per app, never the global one.

A registry per ``create_app`` lets tests build many apps in one process and keeps one service's
series out of another's. Every metric either service can emit is declared in ``service.py``, so
the dashboard and the alert rules in ``deploy/monitoring/`` have one list to follow
(``METRIC_NAMES``). Wiring, in ``create_app``::

    metrics = ServiceMetrics("customer-service")
    app = Litestar(route_handlers=[..., *metrics_handlers(metrics, {"database": pool.is_ready})], ...)
    install_request_metrics(app, metrics)
    app.state.metrics = metrics
"""

from __future__ import annotations

from shared.metrics.endpoint import metrics_handlers
from shared.metrics.requests import (
    LATENCY_BUCKETS,
    UNMATCHED_ROUTE,
    RequestDurations,
    RequestMetricsMiddleware,
    install_request_metrics,
)
from shared.metrics.service import METRIC_NAMES, ServiceMetrics

__all__ = [
    "LATENCY_BUCKETS",
    "METRIC_NAMES",
    "UNMATCHED_ROUTE",
    "RequestDurations",
    "RequestMetricsMiddleware",
    "ServiceMetrics",
    "install_request_metrics",
    "metrics_handlers",
]
