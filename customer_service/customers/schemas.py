"""What the customer API sends and what flows between its layers, as msgspec Structs.

JSON names are camelCase, as the original API had them. ``salary`` is a ``Decimal`` and msgspec
writes decimals as JSON strings (``"8500.00"``), so money is never rounded through a float.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import msgspec

__all__ = [
    "FIELD_COLUMNS",
    "Actor",
    "Customer",
    "CustomerFields",
    "CustomerPage",
    "FieldError",
    "StoredCustomer",
]


class Customer(msgspec.Struct, rename="camel", frozen=True):
    """One customer as the API shows it; every field is always present (``null`` when unset)."""

    cpf: str
    email: str
    name: str
    phone_number: str | None
    birthdate: date | None
    profession: str | None
    salary: Decimal | None
    country: str | None
    state: str | None
    city: str | None
    zipcode: str | None
    street: str | None
    number: str | None
    complement: str | None
    created_at: datetime
    updated_at: datetime


class StoredCustomer(msgspec.Struct, frozen=True):
    """A customer and the version its ETag is made of."""

    customer: Customer
    version: int


class CustomerFields(msgspec.Struct, frozen=True, kw_only=True):
    """The writable attributes of a customer (all but the CPF key and the timestamps), validated."""

    email: str
    name: str
    phone_number: str | None = None
    birthdate: date | None = None
    profession: str | None = None
    salary: Decimal | None = None
    country: str | None = None
    state: str | None = None
    city: str | None = None
    zipcode: str | None = None
    street: str | None = None
    number: str | None = None
    complement: str | None = None


FIELD_COLUMNS: tuple[str, ...] = tuple(f.name for f in msgspec.structs.fields(CustomerFields))
"""The writable columns, in the order the repository binds them."""


class FieldError(msgspec.Struct, frozen=True):
    """One invalid field (or query parameter) and what is wrong with it."""

    field: str
    message: str
    in_: str = msgspec.field(default="body", name="in")


class CustomerPage(msgspec.Struct, rename="camel", frozen=True):
    items: list[Customer]
    next_cursor: str | None


class Actor(msgspec.Struct, frozen=True):
    """Who makes a change (the token's ``sub``) and the request it came in, for the event log."""

    subject: str
    request_id: str | None = None
