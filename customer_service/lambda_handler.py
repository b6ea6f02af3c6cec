"""The customer API as an AWS Lambda function behind API Gateway's HTTP API (``deploy/serverless``).

Lambda calls ``customer_service.lambda_handler.handler``. It serves the very app of
``create_app`` (``app_for`` over the same object graph), through Mangum; see
``shared/lambda_runtime.py`` for why start-up is driven once per execution environment. Per
environment, kept across warm invocations: one small pool (``CUSTOMER_DB_POOL_MIN=1``,
``CUSTOMER_DB_POOL_MAX=2`` in the template: an environment serves one request at a time; put RDS
Proxy in front when many environments run), the JWKS, the verified-token cache and the
revocation set.

What the long-running service does in the background is done when an invocation starts:

- the JWKS is an ``OnDemandJwksCache``: loaded at start-up, refetched once past its ``max-age`` or
  after a key revocation, and for an unknown ``kid`` inside the request (as always);
- the revocation stream is read by ``RevocationCatchUp`` (at most once a second), not followed by
  a task that a frozen environment never runs.

API Gateway's JWT authorizer has checked the token before this function runs; the function checks
it again, fully (``typ``, revocation, scopes: the same 401/403 bodies as everywhere), because the
authorizer knows nothing of revocations and caches the issuer's keys for up to two hours. The
authorizer's claims in the event (``requestContext.authorizer.jwt``) are never read.
"""

from __future__ import annotations

import os

from customer_service.app import app_for
from customer_service.settings import CustomerSettings, settings_from_env
from customer_service.wiring import build_services
from shared.auth.jwks_on_demand import OnDemandJwksCache
from shared.auth.keys import KeySource
from shared.auth.revocation_catch_up import RevocationCatchUp
from shared.lambda_runtime import Hook, LambdaApp, LazyHandler
from shared.logs import configure_logging

__all__ = ["build_handler", "handler"]


def build_handler(
    settings: CustomerSettings, key_source: KeySource | None = None, *, revocation_interval: float = 1.0
) -> LambdaApp:
    """The function for ``settings``; ``key_source`` replaces the issuer's JWKS (tests' own keys).
    ``revocation_interval``: least seconds between two reads of the revocation stream."""
    services = build_services(settings, key_source, jwks_cache=OnDemandJwksCache)
    on_start: list[Hook] = []
    before: list[Hook] = []
    if isinstance(services.jwks, OnDemandJwksCache):  # loaded by the app's start-up
        before.append(services.jwks.refresh_if_due)
    if services.revocations is not None:
        catch_up = RevocationCatchUp(services.revocations, interval=revocation_interval)
        on_start.append(catch_up.start)
        before.append(catch_up.catch_up)
    return LambdaApp(app_for(settings, services), on_start=on_start, before=before)


def _from_environment() -> LambdaApp:
    settings = settings_from_env(os.environ)
    configure_logging(settings.http.log_level, "json")  # CloudWatch keeps each line as one event
    return build_handler(settings)


handler = LazyHandler(_from_environment)
"""What the function's ``Handler`` names: built from ``CUSTOMER_*`` on the first invocation."""
