"""The scheduled function of the serverless deployment: what the replicas' background loops do,
on an EventBridge schedule instead (``deploy/serverless/template.yaml``, function ``Maintenance``).

The event's ``task`` names the work, each the code the operator commands and the replicas run:

- ``rotate-keys``: one rotation step (``SigningKeys.sync``, the step every replica's timer runs:
  promote the pending key once its publication period is over, start a rotation when
  ``AUTH_KEY_ROTATION_INTERVAL`` is due, delete retired keys past their removal time), over the
  same signing-key construction as ``auth-service keys rotate`` (``operator_tasks``); the API
  function reloads its keyring within ``AUTH_KEY_REFRESH_INTERVAL``;
- ``purge``: one retention round, ``purge_now``, exactly what ``auth-service purge`` runs (under the
  same lock, audited as the operator);
- ``deliver-mail``: the mail outbox's delivery rounds (``OutboxDelivery.deliver_round``, what each
  replica's loop runs) until nothing is due, at most ``MAIL_ROUNDS`` of them: the API function
  only queues mail (a forgot-password answer must not wait for SMTP), so this is what sends it,
  every minute;
- each then publishes revocations still waiting in the outbox (one ``RevocationPublisher`` round),
  e.g. those an operator command recorded while no API invocation ran: no verifier waits longer
  than one schedule period for them.

Every run opens and closes its own small pool: a schedule fires every few minutes, so nothing is
worth keeping warm, and a run never holds a connection between runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
from redis.asyncio import Redis

from auth_service.keys.service import key_encryption_key
from auth_service.lambda_handler import lambda_settings
from auth_service.mail_wiring import outbox_delivery
from auth_service.metrics import AuthMetrics
from auth_service.operator_tasks import _signing_keys
from auth_service.resources.registry import ResourceRegistry
from auth_service.retention.operator import purge_now
from auth_service.revocations.publisher import RevocationPublisher
from auth_service.settings import AuthSettings
from shared.db.pool import PostgresPool
from shared.logs import configure_logging

__all__ = ["TASKS", "handler", "publish_revocations", "rotation_step", "run_task"]

log = logging.getLogger(__name__)
MAIL_ROUNDS = 20
"""Delivery rounds per run (of ``mail.delivery.BATCH`` messages each): the rest waits a minute."""


async def rotation_step(settings: AuthSettings) -> dict[str, Any]:
    async with _signing_keys(settings) as signing_keys:
        outcome = await signing_keys.sync()
    return {"active": outcome.active, "pending": outcome.pending, "created": outcome.created}


async def purge(settings: AuthSettings) -> dict[str, Any]:
    report = await purge_now(settings)
    if report is None:
        return {"skipped": "another purge is running"}
    result: dict[str, Any] = msgspec.to_builtins(report)
    return result


async def publish_revocations(settings: AuthSettings) -> int:
    """Rounds until the outbox is empty; how many revocations were published."""
    pool = PostgresPool(settings.database.database_url, min_size=1, max_size=1)
    redis = Redis.from_url(settings.redis.redis_url, socket_timeout=5.0, socket_connect_timeout=2.0)
    try:
        registry = ResourceRegistry(pool, interval=settings.oauth.resource_refresh_interval)
        await registry.refresh()
        default_ttl = settings.tokens.access_token_ttl
        publisher = RevocationPublisher(
            settings.database.database_url,
            redis,
            settings.redis.redis_prefix,
            longest_ttl=lambda: registry.longest_ttl(default_ttl),
        )
        published, sent = 0, 1
        while sent:
            async with pool.acquire() as conn:
                sent = await publisher.publish_round(conn)
            published += sent
        return published
    finally:
        await redis.aclose()
        await pool.close()


async def deliver_mail(settings: AuthSettings) -> dict[str, Any]:
    """Rounds until no mail is due (or ``MAIL_ROUNDS``); how many messages were handled."""
    pool = PostgresPool(settings.database.database_url, min_size=1, max_size=1)
    try:
        kek = key_encryption_key(settings.keys)
        delivery = outbox_delivery(settings, pool, kek, AuthMetrics())
        handled, rounds = 0, 0
        while rounds < MAIL_ROUNDS and (done := await delivery.deliver_round()):
            handled, rounds = handled + done, rounds + 1
        return {"mail_handled": handled}
    finally:
        await pool.close()


TASKS: dict[str, Callable[[AuthSettings], Awaitable[dict[str, Any]]]] = {
    "rotate-keys": rotation_step,
    "purge": purge,
    "deliver-mail": deliver_mail,
}


async def run_task(task: str, settings: AuthSettings) -> dict[str, Any]:
    """``task`` then the outbox; raises ``KeyError`` for a task that does not exist."""
    work = TASKS[task]
    result = await work(settings)
    return {"task": task, **result, "revocations_published": await publish_revocations(settings)}


def handler(
    event: Mapping[str, Any], context: Any, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """EventBridge's ``Input`` is ``{"task": "rotate-keys"}``, ``{"task": "purge"}`` or
    ``{"task": "deliver-mail"}``. A failure
    raises, so the invocation counts as an error (the template's alarm watches them)."""
    task = str(event.get("task", ""))
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; one of {', '.join(TASKS)}")
    settings = lambda_settings(os.environ if environ is None else environ)
    if environ is None:  # in Lambda; a test keeps its own logging
        configure_logging(settings.http.log_level, "json")
    result = asyncio.run(run_task(task, settings))
    log.info("scheduled %s done: %s", task, result)
    return result
