"""``/healthz`` (the process answers; no I/O) and ``/readyz`` (every dependency is usable).

Readiness checks are small async callables returning ``True`` when their part is usable; the
503 body names the parts that are not, so an operator reading a failed probe knows where to look.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler

from shared.http.problems import ProblemError

__all__ = ["ReadinessCheck", "health_handlers"]

ReadinessCheck = Callable[[], Awaitable[bool]]


def health_handlers(checks: Mapping[str, ReadinessCheck]) -> list[HTTPRouteHandler]:
    @get("/healthz", include_in_schema=False, sync_to_thread=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz", include_in_schema=False)
    async def readyz() -> Response[dict[str, Any]]:
        failing = []
        for name, check in checks.items():
            try:
                ok = await check()
            except Exception:
                ok = False
            if not ok:
                failing.append(name)
        if failing:
            raise ProblemError(
                503,
                "not-ready",
                f"Not ready: {', '.join(failing)} not usable yet.",
                headers={"Retry-After": "1"},
                extra={"failing": failing},
            )
        return Response({"status": "ready", "checks": dict.fromkeys(checks, "ok")})

    return [healthz, readyz]
