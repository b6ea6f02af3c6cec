"""Every limiter of the auth service, built from the settings over one shared ``ThrottleStore``."""

from __future__ import annotations

from auth_service.metrics import AuthMetrics
from auth_service.settings import RedisSettings, ThrottleSettings
from auth_service.throttling.login import LoginThrottle
from auth_service.throttling.store import ThrottleStore
from auth_service.throttling.window import SlidingWindowLimiter

__all__ = ["DEVICE_CODE_ATTEMPTS", "DEVICE_CODE_WINDOW_SECONDS", "Throttles"]

DEVICE_CODE_ATTEMPTS = 20
"""User codes one source address may try at ``/device`` within the window (RFC 8628 section 5.1:
with 20^8 codes, a few live at a time, guessing one stays hopeless)."""
DEVICE_CODE_WINDOW_SECONDS = 600


class Throttles:
    """``login`` guards the password grant (per account and per address); ``registration`` counts
    per source address, ``password_change`` per user and ``introspection`` per authenticated client;
    ``device_codes`` counts the user codes tried at ``/device`` per source address."""

    __slots__ = ("device_codes", "introspection", "login", "password_change", "registration", "store")

    def __init__(self, redis: RedisSettings, settings: ThrottleSettings, metrics: AuthMetrics) -> None:
        self.store = store = ThrottleStore(
            redis.redis_url,
            prefix=redis.redis_prefix,
            timeout=settings.throttle_redis_timeout,
            fail_mode=settings.throttle_fail_mode,
            metrics=metrics,
        )
        self.login = LoginThrottle(
            store,
            threshold=settings.login_lockout_threshold,
            max_lock_seconds=settings.login_lockout_max_seconds,
            reset_seconds=settings.login_lockout_reset_seconds,
            ip_max_failures=settings.login_ip_max_failures,
            ip_window_seconds=settings.login_ip_window_seconds,
        )
        self.registration = SlidingWindowLimiter(
            store,
            "registration",
            limit=settings.registration_limit,
            window_seconds=settings.registration_window_seconds,
        )
        self.password_change = SlidingWindowLimiter(
            store,
            "password_change",
            limit=settings.password_change_limit,
            window_seconds=settings.password_change_window_seconds,
        )
        self.introspection = SlidingWindowLimiter(
            store,
            "introspection",
            limit=settings.introspection_limit,
            window_seconds=settings.introspection_window_seconds,
        )
        self.device_codes = SlidingWindowLimiter(
            store, "device_code", limit=DEVICE_CODE_ATTEMPTS, window_seconds=DEVICE_CODE_WINDOW_SECONDS
        )

    async def aclose(self) -> None:
        await self.store.aclose()
