"""The one base of every domain error: what went wrong, as class data, with no HTTP in sight.

Services raise these; they never import Litestar or build responses. Each subclass says once, as
class attributes, what a client is told: ``status`` (the HTTP status it maps to, kept here because
a domain error's severity is part of its meaning: not found, conflict, refused), ``slug`` (the
stable ``type`` of the RFC 9457 problem) and ``title``. The single mapper in
``shared/http/problems.py`` turns any of them into problem+json; a service with another wire
format for some errors (RFC 6749 JSON at the OAuth endpoints) registers one more renderer for its
subclass there, so there is still one mapping per app.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

__all__ = ["DomainError", "FieldProblem", "field_problem"]

FieldProblem = Mapping[str, Any]
"""One invalid input: ``{"field": name, "in": "body" | "query" | "path" | ..., "message": text}``."""


def field_problem(field: str, message: str, where: str = "body") -> dict[str, str]:
    return {"field": field, "in": where, "message": message}


class DomainError(Exception):
    """Base of every error a service raises on purpose.

    ``detail`` is the human-readable explanation of this occurrence (defaults to the class's);
    ``errors`` lists invalid inputs field by field; ``headers`` carries what the answer needs
    beyond the body (``Retry-After``, ``WWW-Authenticate``); ``extra`` any further problem members.
    """

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str | None] = None
    """None: the status's reason phrase (``Not Found``)."""
    detail: str = "The request cannot be served."

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[FieldProblem] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        if detail is not None:
            self.detail = detail
        super().__init__(self.detail)
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers) if headers else None
        self.extra = dict(extra) if extra else None

    def problem_members(self) -> dict[str, Any] | None:
        """Members of the problem beyond type, title, status and detail (``errors`` first)."""
        members: dict[str, Any] = {}
        if self.errors is not None:
            members["errors"] = [dict(error) for error in self.errors]
        if self.extra:
            members.update(self.extra)
        return members or None
