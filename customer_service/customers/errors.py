"""What can go wrong with a customer request, as domain errors, and the one place they become HTTP.

The service raises these without knowing about HTTP; ``as_problem`` maps each to its RFC 9457
answer, and the router installs ``handle_customer_error`` for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from litestar import Request, Response

from customer_service.customers.schemas import FieldError
from shared.http.problems import ProblemError

__all__ = [
    "AlreadyRegistered",
    "CustomerError",
    "CustomerNotFound",
    "InvalidCustomer",
    "InvalidRequest",
    "PreconditionFailed",
    "PreconditionRequired",
    "SearchTooBroad",
    "WriteContention",
    "as_problem",
    "handle_customer_error",
]


class CustomerError(Exception):
    """Base of the customer domain's errors."""


class CustomerNotFound(CustomerError):
    pass


class InvalidCustomer(CustomerError):
    """The body breaks field rules; every broken field is listed."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = list(errors)


class InvalidRequest(CustomerError):
    """The path or query is malformed (a bad CPF, limit, cursor, filter...)."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__(f"{len(errors)} invalid parameter(s)")
        self.errors = list(errors)


class AlreadyRegistered(CustomerError):
    """Unique attributes another customer holds: JSON names among cpf, email, phoneNumber."""

    def __init__(self, fields: Sequence[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = list(fields)


class PreconditionFailed(CustomerError):
    """``If-Match`` names a version that is no longer current (or ``If-None-Match`` matched)."""


class PreconditionRequired(CustomerError):
    """An update without ``If-Match`` while the service requires it."""


class WriteContention(CustomerError):
    """An unconditional update lost every retry to concurrent writers."""


class SearchTooBroad(CustomerError):
    """The search could not finish within its time budget."""


_FIELD_LABELS = {"cpf": "CPF", "email": "e-mail", "phoneNumber": "phone number"}


def _errors(errors: Sequence[FieldError]) -> list[dict[str, Any]]:
    return msgspec.to_builtins(list(errors))  # type: ignore[no-any-return]


def as_problem(exc: CustomerError) -> ProblemError:
    if isinstance(exc, CustomerNotFound):
        return ProblemError(404, "customer-not-found", "No customer has this CPF.")
    if isinstance(exc, InvalidCustomer):
        return ProblemError(
            422,
            "invalid-customer",
            "The customer is invalid; see errors for each invalid field.",
            extra={"errors": _errors(exc.errors)},
        )
    if isinstance(exc, InvalidRequest):
        return ProblemError(
            400,
            "invalid-request",
            "The request is invalid; see errors for each invalid parameter.",
            extra={"errors": _errors(exc.errors)},
        )
    if isinstance(exc, AlreadyRegistered):
        labels = " and ".join(_FIELD_LABELS.get(field, field) for field in exc.fields)
        return ProblemError(
            409,
            "customer-already-registered",
            f"Another customer already has this {labels}.",
            extra={
                "errors": [
                    {"field": f, "in": "body", "message": "Is already registered."} for f in exc.fields
                ]
            },
        )
    if isinstance(exc, PreconditionFailed):
        return ProblemError(
            412,
            "precondition-failed",
            "The customer changed since the version named in If-Match (or If-None-Match matched); "
            "GET it again and retry with its ETag.",
        )
    if isinstance(exc, PreconditionRequired):
        return ProblemError(
            428,
            "precondition-required",
            "Send If-Match with the customer's ETag (from GET), so concurrent updates cannot be lost.",
        )
    if isinstance(exc, WriteContention):
        return ProblemError(
            409, "edit-conflict", "The customer is being changed concurrently; retry with If-Match."
        )
    if isinstance(exc, SearchTooBroad):
        return ProblemError(
            422,
            "search-too-broad",
            "The search matches too much to rank in time; add words or filters.",
        )
    return ProblemError(500, "internal", "Unexpected customer error.")


def handle_customer_error(request: Request[Any, Any, Any], exc: CustomerError) -> Response[Any]:
    return as_problem(exc).to_response(request)
