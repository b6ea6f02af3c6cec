"""One error model for both services: RFC 9457 ``application/problem+json``.

Litestar's ``ProblemDetailsPlugin`` does the rendering; this module only says how each kind of
exception becomes a problem: Litestar's own HTTP errors (404 for unknown routes, 405 with
``Allow``, 413, validation 400s with the list of invalid fields), our domain errors, the database
being away (503 + ``Retry-After``) and anything unexpected (500, logged with the request id; the
body says nothing about the cause).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)

from shared.db.pool import DatabaseUnavailable
from shared.errors import DomainError
from shared.logs import request_id_var

__all__ = ["ProblemError", "problem_details_plugin", "problem_responses"]

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://problems.fintech-auth.dev/"


class ProblemError(ProblemDetailsException):
    """A domain error with a stable ``type`` slug, e.g. ``ProblemError(409, "conflict", "...")``."""

    def __init__(
        self,
        status_code: int,
        slug: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            detail=detail,
            status_code=status_code,
            headers=headers,
            extra=extra,
            type_=PROBLEM_BASE + slug,
            title=HTTPStatus(status_code).phrase,
        )


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _from_http_exception(exc: HTTPException) -> ProblemDetailsException:
    extra: dict[str, Any] | None = None
    detail = exc.detail
    if isinstance(exc, ValidationException) or (exc.status_code == 400 and isinstance(exc.extra, list)):
        extra = {"errors": _field_errors(exc.extra)}
        detail = "The request is invalid; see errors for each invalid field."
    elif isinstance(exc.extra, dict):
        extra = exc.extra
    if detail == _title(exc.status_code):
        detail = _default_detail(exc.status_code, detail)
    return ProblemDetailsException(
        detail=detail,
        status_code=exc.status_code,
        headers=exc.headers,
        extra=extra,
        type_="about:blank",
        title=_title(exc.status_code),
    )


def _default_detail(status: int, detail: str) -> str:
    return {
        404: "No resource at this URL.",
        405: "This method is not allowed here; see the Allow header.",
        413: "The request body is larger than this endpoint accepts.",
        415: "This endpoint does not accept that Content-Type.",
    }.get(status, detail)


def _field_errors(extra: Any) -> list[dict[str, Any]]:
    """Litestar gives ``[{"message": ..., "key": ..., "source": ...}]``; keep it, name it per field."""
    if not isinstance(extra, list):
        return []
    errors = []
    for item in extra:
        if isinstance(item, dict):
            errors.append(
                {
                    "field": item.get("key"),
                    "in": item.get("source", "body"),
                    "message": item.get("message"),
                }
            )
    return errors


def _from_domain_error(exc: DomainError) -> ProblemDetailsException:
    return ProblemDetailsException(
        detail=exc.detail,
        status_code=exc.status,
        headers=exc.headers,
        extra=exc.problem_members(),
        type_=PROBLEM_BASE + exc.slug,
        title=exc.title or _title(exc.status),
    )


def _from_database_unavailable(exc: DatabaseUnavailable) -> ProblemDetailsException:
    return ProblemDetailsException(
        detail="The database is not reachable right now; retry shortly.",
        status_code=503,
        headers={"Retry-After": "2"},
        type_=PROBLEM_BASE + "database-unavailable",
        title=_title(503),
    )


def _from_unstorable_text(exc: Exception) -> ProblemDetailsException:
    """PostgreSQL text cannot hold U+0000: a NUL that slipped past field validation is the
    client's mistake (400), not a server failure."""
    return ProblemDetailsException(
        detail="The request contains a character that cannot be stored (NUL, U+0000).",
        status_code=400,
        type_=PROBLEM_BASE + "unstorable-character",
        title=_title(400),
    )


def _from_unexpected(exc: Exception) -> ProblemDetailsException:
    log.error("unhandled exception", exc_info=exc)
    request_id = request_id_var.get()
    return ProblemDetailsException(
        detail="The server failed to answer this request. Quote the request id when reporting it.",
        status_code=500,
        type_="about:blank",
        title=_title(500),
        extra={"requestId": request_id} if request_id else None,
    )


def problem_details_plugin() -> ProblemDetailsPlugin:
    """The one mapping of exceptions to answers; a service adds renderers for other wire formats
    (RFC 6749 JSON) as Litestar ``exception_handlers`` for its own ``DomainError`` subclasses."""
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={
                HTTPException: _from_http_exception,
                DomainError: _from_domain_error,
                DatabaseUnavailable: _from_database_unavailable,
                asyncpg.exceptions.CharacterNotInRepertoireError: _from_unstorable_text,
                asyncpg.exceptions.UntranslatableCharacterError: _from_unstorable_text,
                Exception: _from_unexpected,
            },
        )
    )


def problem_responses(
    model: type, descriptions: Mapping[int, str], statuses: Iterable[int]
) -> dict[int, ResponseSpec]:
    """OpenAPI ``responses`` declaring problem+json answers, one description per status."""
    return {
        status: ResponseSpec(
            model,
            description=descriptions[status],
            media_type="application/problem+json",
            generate_examples=False,
        )
        for status in statuses
    }
