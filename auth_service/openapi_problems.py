"""The problem+json answers each API route may give, for the OpenAPI document.

Litestar documents successes and its own 400s; the errors our services raise (401/403 from bearer
auth, 404, 409, 422, 503) are listed here once, so clients and schema-driven fuzzers know them.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec

from shared.http.problems import problem_responses

__all__ = ["ADMIN_BODY_ERRORS", "ADMIN_ERRORS", "BEARER_ERRORS", "problems"]


class Problem(msgspec.Struct):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


_DESCRIPTIONS = {
    400: "Malformed request: a bad query or path parameter, or a body that is not a JSON object",
    401: "No valid bearer token (WWW-Authenticate: Bearer)",
    403: "The token lacks the scope this needs (insufficient_scope), or the action is refused",
    404: "No such resource",
    409: "Conflicts with the current state (duplicate, still in use, last admin)",
    413: "The body is larger than AUTH_MAX_BODY_BYTES",
    415: "The body is not application/json",
    422: "A field's value is not acceptable (see errors)",
    429: "Too many attempts; retry after Retry-After (AUTH_*_LIMIT settings)",
    503: "A dependency is unavailable; retry after Retry-After",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    return problem_responses(Problem, _DESCRIPTIONS, statuses)


BEARER_ERRORS = problems(401, 403, 503)
ADMIN_ERRORS = problems(400, 401, 403, 404, 409, 422, 503)
ADMIN_BODY_ERRORS = problems(400, 401, 403, 404, 409, 413, 415, 422, 503)
"""For routes that take a JSON body."""
