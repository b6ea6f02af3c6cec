"""How an ``OAuthError`` reads over HTTP: RFC 6749 section 5.2 JSON, registered once for the app.

Every answer of the OAuth endpoints carries ``Cache-Control: no-store`` and ``Pragma: no-cache``
(section 5.1). OAuth clients parse ``error`` from an ``application/json`` body (some, like
Nimbus, refuse any other media type), so a throttled request is ``429`` with that media type too,
``error: slow_down``, and RFC 9457's members beside for HTTP clients that read problem details.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response

from auth_service.tokens.errors import OAuthError
from shared.http.problems import PROBLEM_BASE

__all__ = ["NO_STORE", "json_answer", "oauth_error_answer"]

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_encode = msgspec.json.Encoder().encode


def json_answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    """Pre-encoded JSON with the no-store headers every OAuth answer needs (the handlers'
    ``Response[X]`` annotations document what the bytes are)."""
    return Response(
        content=_encode(body),
        status_code=status,
        media_type="application/json",
        headers={**NO_STORE, **headers} if headers else NO_STORE,
    )


def oauth_error_answer(_: Request[Any, Any, Any], exc: OAuthError) -> Response[Any]:
    """The app's ``exception_handlers`` entry for ``OAuthError`` (beside problem+json for the rest)."""
    body: dict[str, Any] = {"error": exc.error, "error_description": exc.detail}
    if exc.with_problem_members:
        body["type"] = PROBLEM_BASE + exc.slug
        body["title"] = exc.title
        body["status"] = exc.status
        body["detail"] = exc.detail
    return json_answer(body, exc.status, exc.headers)
