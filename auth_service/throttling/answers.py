"""How a refusal reads over HTTP: RFC 6749 JSON on the OAuth endpoints, problem+json elsewhere.

RFC 6749 has no code for "too many requests", and OAuth clients parse ``error`` from an
``application/json`` body (some, like Nimbus, refuse any other media type). So the OAuth answer is
``429`` with ``Retry-After``, media type ``application/json`` and ``error: slow_down`` — the
registered code (RFC 8628) that means "wait before the next request", which device-flow clients
already honour — and the same body also carries RFC 9457's members (``type``, ``title``,
``status``, ``detail``) for HTTP clients that read problem details. Failing closed answers
``503 temporarily_unavailable`` with ``Retry-After``, like every other 503 of these endpoints.
"""

from __future__ import annotations

from typing import Any

from auth_service.throttling.errors import ThrottleRefusal, ThrottlingUnavailable
from auth_service.throttling.window import SlidingWindowLimiter
from shared.http.problems import PROBLEM_BASE, ProblemError

__all__ = ["oauth_refusal", "problem", "within_limit"]

TOO_MANY = "Too many attempts; retry after {seconds} s."
UNAVAILABLE = "Request limits cannot be checked right now; retry shortly."


def oauth_refusal(refusal: ThrottleRefusal) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, body and headers of the OAuth endpoints' answer."""
    headers = {"Retry-After": str(refusal.retry_after)}
    if isinstance(refusal, ThrottlingUnavailable):
        return 503, {"error": "temporarily_unavailable", "error_description": UNAVAILABLE}, headers
    detail = TOO_MANY.format(seconds=refusal.retry_after)
    body = {
        "error": "slow_down",
        "error_description": detail,
        "type": PROBLEM_BASE + "too-many-requests",
        "title": "Too Many Requests",
        "status": 429,
        "detail": detail,
    }
    return 429, body, headers


def problem(refusal: ThrottleRefusal) -> ProblemError:
    headers = {"Retry-After": str(refusal.retry_after)}
    if isinstance(refusal, ThrottlingUnavailable):
        return ProblemError(503, "throttling-unavailable", UNAVAILABLE, headers=headers)
    detail = TOO_MANY.format(seconds=refusal.retry_after)
    return ProblemError(429, "too-many-requests", detail, headers=headers)


async def within_limit(limiter: SlidingWindowLimiter, subject: str) -> None:
    """Count a hit for ``subject``; over the limit (or failing closed), raise its problem+json."""
    try:
        await limiter.hit(subject)
    except ThrottleRefusal as refusal:
        raise problem(refusal) from None
