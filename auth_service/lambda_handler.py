"""The auth service as an AWS Lambda function behind API Gateway's HTTP API (``deploy/serverless``).

Lambda calls ``auth_service.lambda_handler.handler``: the app of ``create_app`` (``app_for`` over
the object graph of ``build_services``), through Mangum, started once per execution environment
(``shared/lambda_runtime.py``). The graph is the long-running service's, unchanged; what differs
is who does the background work, since nothing runs while an environment is frozen:

- the loops the app starts (signing-key timer, resource-server reload, purge, revocation
  publisher and feed, mail outbox delivery) are stopped right after start-up, so none wakes
  half-way through a later request (the outbox's mail waits for the scheduled ``deliver-mail``);
- when an invocation starts, the keyring and the resource servers are reloaded if their interval
  (``AUTH_KEY_REFRESH_INTERVAL``, ``AUTH_RESOURCE_REFRESH_INTERVAL``) has passed, and the
  revocation stream is read (``RevocationCatchUp``);
- once the response is made, revocations the request recorded are published to the stream (one
  publisher round on the pool), unless it was a read that never revokes (discovery, JWKS, static
  files, probes): a revoked token must not wait for the next request of this environment;
- key rotation steps and the retention purge run in their own scheduled function
  (``auth_service/lambda_schedule.py``).

Back-channel logout notices stay background tasks: one that has not finished when the response is
returned goes on at this environment's next invocation (see ``deploy/serverless/README.md``).

The key-encryption key comes from Secrets Manager or SSM Parameter Store when ``AUTH_KEK_SECRET_ID``
names it (``lambda_settings``), never from the template; the client address throttling and audit
use is API Gateway's ``sourceIp`` (the ASGI peer), so ``AUTH_TRUSTED_PROXIES`` stays empty.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import msgspec

from auth_service.app import app_for
from auth_service.settings import AuthSettings, settings_from_env
from auth_service.wiring import AuthServices, build_services
from shared.auth.revocation_catch_up import RevocationCatchUp
from shared.lambda_runtime import DueRefresh, LambdaApp, LazyHandler, aws_secret
from shared.logs import configure_logging

__all__ = ["KEK_SECRET_ENV", "build_handler", "handler", "lambda_settings"]

KEK_SECRET_ENV = "AUTH_KEK_SECRET_ID"  # noqa: S105 (the variable naming the secret, not one)
"""A Secrets Manager secret ARN or an SSM SecureString parameter name (``/fintech/kek``) holding
the key-encryption key; during a KEK rotation, ``NEW,OLD`` (the newest seals, the rest only open)."""
_NEVER_REVOKING = ("/.well-known/", "/static/", "/healthz", "/readyz", "/metrics", "/schema")


def lambda_settings(environ: Mapping[str, str]) -> AuthSettings:
    """``AUTH_*`` settings, with the key-encryption key read from the secret ``AUTH_KEK_SECRET_ID``
    names (when set): held in memory only, never written to the environment or to disk."""
    settings = settings_from_env(environ)
    secret_id = environ.get(KEK_SECRET_ENV, "")
    if not secret_id:
        return settings
    newest, *previous = [part.strip() for part in aws_secret(secret_id).split(",") if part.strip()] or [""]
    keys = msgspec.structs.replace(
        settings.keys, key_encryption_key=newest, previous_key_encryption_keys=previous
    )
    return msgspec.structs.replace(settings, keys=keys)


def _may_revoke(event: Mapping[str, Any]) -> bool:
    http = event.get("requestContext", {}).get("http", {})
    reads = http.get("method") in ("GET", "HEAD", "OPTIONS")
    return not (reads and str(http.get("path", "")).startswith(_NEVER_REVOKING))


def build_handler(services: AuthServices) -> LambdaApp:
    """The function over an object graph built by ``build_services`` (tests seed through it)."""
    settings = services.settings
    catch_up = RevocationCatchUp(services.revocations.feed)
    publisher = services.revocations.publisher

    async def stop_background_loops() -> None:
        await services.signing_keys.stop()
        await services.resource_registry.stop()
        await services.purge.stop()
        await publisher.stop()
        await services.mail.stop()  # the outbox keeps its mail for lambda_schedule's deliver-mail
        await catch_up.start()

    async def publish_revocations(event: Mapping[str, Any]) -> None:
        if _may_revoke(event):
            async with services.pool.acquire() as conn:
                await publisher.publish_round(conn)

    keyring = services.signing_keys.keyring
    return LambdaApp(
        app_for(services),
        on_start=[stop_background_loops],
        before=[
            DueRefresh("signing keys", keyring.refresh, interval=settings.keys.key_refresh_interval),
            DueRefresh(
                "resource servers",
                services.resource_registry.refresh,
                interval=settings.oauth.resource_refresh_interval,
            ),
            catch_up.catch_up,
        ],
        after=[publish_revocations],
    )


def _from_environment() -> LambdaApp:
    settings = lambda_settings(os.environ)
    configure_logging(settings.http.log_level, "json")  # CloudWatch keeps each line as one event
    return build_handler(build_services(settings))


handler = LazyHandler(_from_environment)
"""What the function's ``Handler`` names: built from ``AUTH_*`` on the first invocation."""
