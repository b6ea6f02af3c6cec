"""``GET /metrics``: the Prometheus exposition of one app's registry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, get
from prometheus_client.exposition import choose_encoder

if TYPE_CHECKING:
    from litestar.handlers import HTTPRouteHandler

    from shared.metrics.service import ServiceMetrics

__all__ = ["metrics_handlers"]


def metrics_handlers(
    metrics: ServiceMetrics,
    checks: Mapping[str, Callable[[], Awaitable[bool]]] | None = None,
    *,
    check_seconds: float = 2.0,
) -> list[HTTPRouteHandler]:
    """``/metrics`` in Prometheus text (OpenMetrics when the scraper asks), outside auth and schema.

    ``checks`` (the callables ``/readyz`` uses) run on each scrape, each bounded by
    ``check_seconds``, so ``service_dependency_up`` shows the database or Redis down even when no
    request touches them. The route is excluded from bearer auth (``exclude_from_auth``); keep it
    off the public ingress: it is for the cluster's Prometheus only.
    """

    @get("/metrics", include_in_schema=False, opt={"exclude_from_auth": True}, cache=False)
    async def prometheus_metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
        if checks:
            await metrics.check_dependencies(checks, check_seconds)
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(metrics.registry), media_type=content_type)

    return [prometheus_metrics]
