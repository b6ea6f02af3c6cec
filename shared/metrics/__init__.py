"""Prometheus metrics for both services: one registry per app, never the global one.

A registry per ``create_app`` lets tests build many apps in one process and keeps one service's
series out of another's. The metrics every service emits are declared in ``service.py``
(``METRIC_NAMES``); a service declares its own beside them (``auth_service/metrics.py``), and the
dashboard and alert rules in ``deploy/monitoring/`` follow both lists. A service makes one
``ServiceMetrics("customer-service")`` in its wiring and hands it to
``shared.http.stack.create_service_app``, which serves ``/metrics`` (``metrics_handlers``) and
feeds ``metrics.requests`` from the one request observer (``shared.http.observation``).
"""

from __future__ import annotations

from shared.metrics.endpoint import metrics_handlers
from shared.metrics.requests import LATENCY_BUCKETS, UNMATCHED_ROUTE, RequestDurations
from shared.metrics.service import METRIC_NAMES, ServiceMetrics

__all__ = [
    "LATENCY_BUCKETS",
    "METRIC_NAMES",
    "UNMATCHED_ROUTE",
    "RequestDurations",
    "ServiceMetrics",
    "metrics_handlers",
]
