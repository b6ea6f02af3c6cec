"""``create_app(settings)``: the customer service as a Litestar app, on the shared HTTP stack.

What is the customer service's own: its routes, its bearer scheme in the OpenAPI document, and
the object graph of ``wiring.py`` (pool, key source, verifier, services) with its lifespan.
"""

from __future__ import annotations

from litestar import Litestar

from customer_service.customers.controllers import customer_router
from customer_service.customers.openapi import components
from customer_service.settings import CustomerSettings
from customer_service.wiring import build_services
from shared.auth.keys import KeySource
from shared.http.stack import ServiceDescription, create_service_app

__all__ = ["create_app"]


def create_app(settings: CustomerSettings, key_source: KeySource | None = None) -> Litestar:
    """``key_source`` replaces the issuer's JWKS (tests sign with their own key)."""
    services = build_services(settings, key_source)
    base_path = f"{settings.customers.api_prefix}/customers"
    return create_service_app(
        ServiceDescription(
            name="customer-service",
            title="Customer service",
            route_handlers=[customer_router(services.customers, services.search, base_path)],
            metrics=services.metrics,
            verifier=services.verifier,
            realm=settings.verification.realm,
            limits=settings.http,
            readiness=services.readiness(),
            components=components(),
            lifespan=[services.lifespan],
        )
    )
