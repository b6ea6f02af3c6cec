"""The domain errors of the non-OAuth API, each one RFC 9457 problem+json by construction."""

from __future__ import annotations

from shared.http.problems import ProblemError

__all__ = ["Conflict", "Forbidden", "InvalidField", "NotFound"]


class NotFound(ProblemError):
    def __init__(self, what: str) -> None:
        super().__init__(404, "not-found", f"No {what} with this identifier.")


class Conflict(ProblemError):
    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(409, slug, detail)


class InvalidField(ProblemError):
    """422: the request is well-formed but a field's value is not acceptable."""

    def __init__(self, field: str, message: str, slug: str = "invalid-field") -> None:
        super().__init__(
            422, slug, message, extra={"errors": [{"field": field, "in": "body", "message": message}]}
        )


class Forbidden(ProblemError):
    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(403, slug, detail)
