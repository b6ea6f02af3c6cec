"""``create_app(settings)``: the customer service as a Litestar app, on the shared HTTP stack.

What is the customer service's own: its routes, its bearer scheme in the OpenAPI document, and
the object graph of ``wiring.py`` (pool, key source, verifier, services) with its lifespan.
"""

from __future__ import annotations

from litestar import Litestar

from customer_service.customers.controllers import customer_router, delete_step_up
from customer_service.customers.openapi import components
from customer_service.settings import CustomerSettings
from customer_service.wiring import CustomerServices, build_services
from shared.auth.keys import KeySource
from shared.http.stack import ServiceDescription, create_service_app

__all__ = ["app_for", "create_app"]


def create_app(settings: CustomerSettings, key_source: KeySource | None = None) -> Litestar:
    """``key_source`` replaces the issuer's JWKS (tests sign with their own key)."""
    return app_for(settings, build_services(settings, key_source))


def app_for(settings: CustomerSettings, services: CustomerServices) -> Litestar:
    """The app over an object graph already built: the Lambda entry point keeps the graph, to
    refresh its keys and revocations when an invocation starts (``customer_service/lambda_handler.py``)."""
    api = settings.customers
    base_path = f"{api.api_prefix}/customers"
    delete_requirement = delete_step_up(api.delete_requires_mfa, api.delete_max_age)
    return create_service_app(
        ServiceDescription(
            name="customer-service",
            title="Customer service",
            route_handlers=[
                customer_router(services.customers, services.search, base_path, delete_requirement)
            ],
            metrics=services.metrics,
            verifier=services.verifier,
            realm=settings.verification.realm,
            limits=settings.http,
            readiness=services.readiness(),
            components=components(),
            lifespan=[services.lifespan],
        )
    )
