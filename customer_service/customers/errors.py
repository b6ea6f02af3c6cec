"""What can go wrong with a customer request, as domain errors: no HTTP here.

Each error says as class data what a client is told (``status``, ``slug``, ``detail``); the one
mapper of ``shared/http/problems.py`` renders every ``DomainError`` as problem+json, so the
service raises these without knowing how they reach the wire.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import msgspec

from customer_service.customers.schemas import FieldError
from shared.errors import DomainError, field_problem

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
]

_FIELD_LABELS = {"cpf": "CPF", "email": "e-mail", "phoneNumber": "phone number"}


def _listed(errors: Sequence[FieldError]) -> list[dict[str, Any]]:
    """``{"field", "message", "in"}`` in that order: the member order clients have always seen."""
    return msgspec.to_builtins(list(errors))  # type: ignore[no-any-return]


class CustomerError(DomainError):
    """Base of the customer domain's errors."""


class CustomerNotFound(CustomerError):
    status: ClassVar[int] = 404
    slug: ClassVar[str] = "customer-not-found"
    detail = "No customer has this CPF."


class InvalidCustomer(CustomerError):
    """The body breaks field rules; every broken field is listed."""

    status: ClassVar[int] = 422
    slug: ClassVar[str] = "invalid-customer"
    detail = "The customer is invalid; see errors for each invalid field."

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__(errors=_listed(errors))


class InvalidRequest(CustomerError):
    """The path or query is malformed (a bad CPF, limit, cursor, filter...)."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "invalid-request"
    detail = "The request is invalid; see errors for each invalid parameter."

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__(errors=_listed(errors))


class AlreadyRegistered(CustomerError):
    """Unique attributes another customer holds: JSON names among cpf, email, phoneNumber."""

    status: ClassVar[int] = 409
    slug: ClassVar[str] = "customer-already-registered"

    def __init__(self, fields: Sequence[str]) -> None:
        labels = " and ".join(_FIELD_LABELS.get(field, field) for field in fields)
        super().__init__(
            f"Another customer already has this {labels}.",
            errors=[field_problem(field, "Is already registered.") for field in fields],
        )
        self.fields = list(fields)


class PreconditionFailed(CustomerError):
    """``If-Match`` names a version that is no longer current (or ``If-None-Match`` matched)."""

    status: ClassVar[int] = 412
    slug: ClassVar[str] = "precondition-failed"
    detail = (
        "The customer changed since the version named in If-Match (or If-None-Match matched); "
        "GET it again and retry with its ETag."
    )


class PreconditionRequired(CustomerError):
    """An update without ``If-Match`` while the service requires it."""

    status: ClassVar[int] = 428
    slug: ClassVar[str] = "precondition-required"
    detail = "Send If-Match with the customer's ETag (from GET), so concurrent updates cannot be lost."


class WriteContention(CustomerError):
    """An unconditional update lost every retry to concurrent writers."""

    status: ClassVar[int] = 409
    slug: ClassVar[str] = "edit-conflict"
    detail = "The customer is being changed concurrently; retry with If-Match."


class SearchTooBroad(CustomerError):
    """The search could not finish within its time budget."""

    status: ClassVar[int] = 422
    slug: ClassVar[str] = "search-too-broad"
    detail = "The search matches too much to rank in time; add words or filters."
