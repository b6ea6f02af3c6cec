"""``browser_router``: the one Router every hosted page lives in, with its defences built in.

Its routes need no bearer token (``exclude_from_auth``: a browser carries a session cookie, not a
token), every unsafe method needs the CSRF token (``CsrfTokens``; a route sets
``opt={"exclude_from_csrf": True}`` to receive cross-site POSTs by design), every answer carries
the security headers (redirects too), and every error is an HTML page in the visitor's language
rather than problem+json: Litestar's HTTP errors, our domain errors (``Retry-After`` kept), the
database away, and anything unexpected (500, logged, nothing said about the cause). Errors with
their own renderer at app level (``OAuthError``: RFC 6749 JSON) keep it: Litestar picks the
handler of the most specific class.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Final

import asyncpg
from litestar import Request, Response, Router
from litestar.exceptions import HTTPException
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.types import ControllerRouterHandler, ExceptionHandlersMap

from auth_service.web.headers import content_security_policy, page_headers
from auth_service.web.pages import Pages
from shared.db.pool import DatabaseUnavailable
from shared.errors import DomainError

__all__ = ["CSRF_FAILURE", "browser_router"]

log = logging.getLogger(__name__)

CSRF_FAILURE: Final = "CSRF token verification failed"
"""The detail of the 403 Litestar's CSRF middleware raises."""
_BY_STATUS: Final = {
    400: "error.bad_request",
    401: "error.forbidden",
    403: "error.forbidden",
    404: "error.not_found",
    405: "error.method_not_allowed",
    413: "error.too_large",
    429: "error.too-many-requests",
    503: "error.unavailable",
}
_UNSTORABLE: Final = (
    asyncpg.exceptions.CharacterNotInRepertoireError,
    asyncpg.exceptions.UntranslatableCharacterError,
)
"""Text PostgreSQL cannot hold (a NUL): the visitor's mistake, as in ``shared/http/problems.py``."""
AnyRequest = Request[Any, Any, Any]


def _error_answer(pages: Pages) -> Any:
    def answer(request: AnyRequest, exc: Exception) -> Response[Any]:
        status, headers, key = 500, None, "error.server"
        if isinstance(exc, HTTPException | ProblemDetailsException):
            status, headers = exc.status_code, exc.headers
            key = "error.csrf" if exc.detail == CSRF_FAILURE else _BY_STATUS.get(status, "")
        elif isinstance(exc, DomainError):
            status, headers = exc.status, exc.headers
            key = f"error.{exc.slug}" if pages.catalogs.has(f"error.{exc.slug}.title") else ""
            key = key or _BY_STATUS.get(status, "")
        elif isinstance(exc, DatabaseUnavailable):
            status, headers, key = 503, {"Retry-After": "2"}, "error.unavailable"
        elif isinstance(exc, _UNSTORABLE):
            status, key = 400, "error.bad_request"
        else:
            log.error("unhandled exception on a page", exc_info=exc)
        key = key or ("error.server" if status >= 500 else "error.bad_request")
        return pages.error(
            request,
            locale=pages.locale(request),
            status_code=status,
            title=f"{key}.title",
            detail=f"{key}.detail",
            headers=headers,
        )

    return answer


_DEFAULT_PAGE_HEADERS = page_headers(content_security_policy(), None)


async def _with_page_headers(response: Response[Any]) -> Response[Any]:
    """Redirects and any answer not made by ``Pages`` get the same headers (a page's own win).
    A coroutine: Litestar runs a plain function hook in a worker thread, a hop per request."""
    for name, value in _DEFAULT_PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def browser_router(handlers: Sequence[ControllerRouterHandler], *, pages: Pages) -> Router:
    """The hosted pages' Router at ``/`` (handlers keep their own paths)."""
    answer = _error_answer(pages)
    exception_handlers: ExceptionHandlersMap = {
        HTTPException: answer,
        ProblemDetailsException: answer,
        DomainError: answer,
        DatabaseUnavailable: answer,
        **dict.fromkeys(_UNSTORABLE, answer),
        Exception: answer,
    }
    return Router(
        "/",
        route_handlers=list(handlers),
        middleware=[pages.csrf.middleware()],
        opt={"exclude_from_auth": True},
        exception_handlers=exception_handlers,
        after_request=_with_page_headers,
        include_in_schema=False,
    )
