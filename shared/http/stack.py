"""``create_service_app``: the HTTP stack every service of ours runs on, built in one place.

Both services install the same things: problem+json for every error, the declared-content-type
check, body and header limits, ``JsonBodyRequest``, bearer authentication, ``/healthz``,
``/readyz`` and ``/metrics``, the OpenAPI document at ``/schema``, and one ASGI wrapper giving each
request its id, access log line, duration metric and (when configured) span. A service describes
only what is its own in a ``ServiceDescription``; it cannot forget a piece or install them in
another order (the header limit inside the request observer, so a 431 is logged and counted).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from litestar import Litestar
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components

from shared.auth.litestar import BearerAuthMiddleware, check_scoped_routes_authenticated
from shared.http.content_type import require_declared_content_type
from shared.http.health import ReadinessCheck, health_handlers
from shared.http.json_body import JsonBodyRequest
from shared.http.limits import install_header_limit
from shared.http.observation import observe_requests
from shared.http.problems import problem_details_plugin
from shared.metrics.endpoint import metrics_handlers
from shared.tracing import request_tracing

if TYPE_CHECKING:
    from litestar.template import TemplateConfig
    from litestar.types import ControllerRouterHandler, ExceptionHandlersMap

    from shared.auth.verifier import TokenVerifier
    from shared.metrics import ServiceMetrics

__all__ = ["STANDARD_PUBLIC_PATHS", "HttpLimits", "Lifespan", "ServiceDescription", "create_service_app"]

STANDARD_PUBLIC_PATHS = ("^/healthz$", "^/readyz$", "^/metrics$", "^/schema")
"""Served without a bearer token in every service: probes, the scrape and the OpenAPI document."""

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


class HttpLimits(Protocol):
    """What the stack reads from a service's HTTP settings (``settings.http`` fits)."""

    @property
    def max_body_bytes(self) -> int: ...

    @property
    def max_header_bytes(self) -> int: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceDescription:
    """What one service adds to the shared stack; everything else is the same for all."""

    name: str
    """``auth-service``: the tracing ``service.name`` (unless ``OTEL_SERVICE_NAME`` says otherwise)."""
    title: str
    """The OpenAPI document's title."""
    route_handlers: Sequence[ControllerRouterHandler]
    """The service's own routes; health and metrics handlers are added in front of them."""
    metrics: ServiceMetrics
    """Served at ``/metrics``; its ``requests`` histogram is fed by every request."""
    verifier: TokenVerifier
    """Verifies the bearer token of every route that is neither public nor ``exclude_from_auth``."""
    realm: str
    """``realm`` of the ``WWW-Authenticate: Bearer`` challenges."""
    limits: HttpLimits
    readiness: Mapping[str, ReadinessCheck]
    """``/readyz``: every part that must be usable before traffic is sent here."""
    scraped_dependencies: Mapping[str, ReadinessCheck] | None = None
    """Checked on each ``/metrics`` scrape (``service_dependency_up``); None: ``readiness``."""
    public_paths: Sequence[str] = ()
    """Path regexes served without a token, beyond ``STANDARD_PUBLIC_PATHS``."""
    components: Components = field(default_factory=Components)
    """OpenAPI components: the bearer ``SecurityScheme`` the routes' ``security`` names."""
    lifespan: Sequence[Lifespan] = ()
    """Open and close what the service holds (pools, clients, timers), in this order."""
    exception_handlers: ExceptionHandlersMap = field(default_factory=dict)
    """Renderers for errors with another wire format (RFC 6749 JSON); problem+json otherwise."""
    version: str = "1"
    """The OpenAPI document's ``info.version``."""
    template_config: TemplateConfig[Any] | None = None
    """The template engine of a service serving HTML pages (the auth service's hosted login)."""


def create_service_app(service: ServiceDescription, environ: Mapping[str, str] | None = None) -> Litestar:
    """The service's app; ``environ`` (default ``os.environ``) says whether tracing is on."""
    tracing = request_tracing(service.name, environ)
    public = [*service.public_paths, *STANDARD_PUBLIC_PATHS]
    bearer = DefineMiddleware(
        BearerAuthMiddleware, verifier=service.verifier, realm=service.realm, exclude=public
    )
    scraped = service.readiness if service.scraped_dependencies is None else service.scraped_dependencies
    app = Litestar(
        route_handlers=[
            *health_handlers(service.readiness),
            *metrics_handlers(service.metrics, scraped),
            *service.route_handlers,
        ],
        lifespan=list(service.lifespan),
        on_shutdown=[tracing.shutdown] if tracing is not None else [],
        middleware=[bearer],
        plugins=[problem_details_plugin()],
        exception_handlers=dict(service.exception_handlers),
        before_request=require_declared_content_type,
        request_max_body_size=service.limits.max_body_bytes,
        request_class=JsonBodyRequest,  # hostile JSON (too deep, not UTF-8) is a 400, never a 500
        openapi_config=OpenAPIConfig(
            title=service.title, version=service.version, path="/schema", components=service.components
        ),
        template_config=service.template_config,
        logging_config=None,  # shared.logs.configure_logging owns the handlers
        debug=False,
    )
    check_scoped_routes_authenticated(app, public)
    install_header_limit(app, service.limits.max_header_bytes)
    observe_requests(app, service.metrics.requests, tracing)  # outermost: sees every answer
    return app
