"""The Redis the limiters share, with short timeouts and the configured fail mode.

A dedicated client: its commands give up after ``AUTH_THROTTLE_REDIS_TIMEOUT`` and are retried
once at most, without back-off (the one retry replaces a pooled connection that died with a Redis
restart), so an unreachable Redis costs a request a fraction of a second, never the client
library's default retry schedule. redis-py reconnects on the next command once Redis is back, so
recovery needs nothing from us; the outage and the recovery are logged once each, and every
failed command counts in ``redis_errors_total{operation="throttle"}``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from auth_service.metrics import AuthMetrics
from auth_service.throttling.errors import ThrottlingUnavailable

__all__ = ["ThrottleStore"]

log = logging.getLogger(__name__)

METRIC_OPERATION = "throttle"


class ThrottleStore:
    __slots__ = ("_fail_open", "_metrics", "_reachable", "_redis", "prefix")

    def __init__(
        self,
        redis_url: str,
        *,
        prefix: str,
        timeout: float,
        fail_mode: Literal["closed", "open"],
        metrics: AuthMetrics,
    ) -> None:
        self._redis = Redis.from_url(
            redis_url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self.prefix = f"{prefix}throttle:"
        self._fail_open = fail_mode == "open"
        self._metrics = metrics
        self._reachable = True

    def script(self, text: str) -> AsyncScript:
        return self._redis.register_script(text)

    def decision(self, limiter: str, *, throttled: bool) -> None:
        self._metrics.throttle_decision(limiter, throttled=throttled)

    async def run(
        self, script: AsyncScript, keys: Sequence[str], args: Sequence[str | int], *, limiters: Sequence[str]
    ) -> Any:
        """The script's reply; ``None`` when Redis failed and the fail mode is ``open``.

        Raises ``ThrottlingUnavailable`` when Redis failed and the fail mode is ``closed``. Either
        way each of ``limiters`` records the decision the fail mode made.
        """
        try:
            reply = await script(keys=list(keys), args=list(args))
        except RedisError as exc:
            self._failed(exc)
            for limiter in limiters:
                self.decision(limiter, throttled=not self._fail_open)
            if self._fail_open:
                return None
            raise ThrottlingUnavailable(limiters[0]) from None
        self._answered()
        return reply

    async def run_quietly(self, script: AsyncScript, keys: Sequence[str], args: Sequence[str | int]) -> None:
        """For bookkeeping after the fact (a success clearing failures): a failure is logged, not raised."""
        try:
            await script(keys=list(keys), args=list(args))
        except RedisError as exc:
            self._failed(exc)
            return
        self._answered()

    def _failed(self, exc: RedisError) -> None:
        self._metrics.redis_error(METRIC_OPERATION)
        if self._reachable:
            self._reachable = False
            log.error(
                "throttling: Redis did not answer (%s: %s); failing %s until it does",
                type(exc).__name__,
                exc,
                "open (requests go through unthrottled)" if self._fail_open else "closed (503)",
            )

    def _answered(self) -> None:
        if not self._reachable:
            self._reachable = True
            log.warning("throttling: Redis answers again; limits apply")

    async def aclose(self) -> None:
        await self._redis.aclose()
