"""The kinds of value a list or search query parameter takes: how each is parsed, how documented.

A ``QueryValue`` keeps the parser and the OpenAPI schema of one kind side by side, so the
document states the syntax the parser enforces (the decimal pattern is the parser's own). A
parser raises ``ValueError`` with the message the client reads in the 400's ``errors``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from litestar.openapi.spec import Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from customer_service.customers.cpf import InvalidCpf, parse_cpf
from customer_service.customers.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    InvalidCursor,
    Position,
    decode_cursor,
    parse_limit,
)

__all__ = [
    "CPF",
    "CURSOR",
    "DATE",
    "DECIMAL",
    "INSTANT_END",
    "INSTANT_START",
    "LIMIT",
    "MAX_QUERY_CHARS",
    "TEXT",
    "WORDS",
    "QueryValue",
    "parse_cpf_param",
]

MAX_QUERY_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DECIMAL = r"[0-9]{1,12}(?:\.[0-9]{1,2})?"
_DECIMAL_RE = re.compile(_DECIMAL)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True, slots=True)
class QueryValue:
    parse: Callable[[str], Any]
    schema: Schema


def _text(raw: str) -> str:
    value = raw.strip()
    if not value or _CONTROL.search(value) or len(value) > MAX_QUERY_CHARS:
        raise ValueError(f"Must be 1 to {MAX_QUERY_CHARS} characters, without control characters.")
    return value


def _words(raw: str) -> str:
    value = _text(raw)
    if not any(ch.isalnum() for ch in value):
        raise ValueError("Must contain a letter or a digit.")
    return value


def _decimal(raw: str) -> Decimal:
    if _DECIMAL_RE.fullmatch(raw) is None:
        raise ValueError('Must be a non-negative decimal with at most 2 decimals, such as "2500.00".')
    return Decimal(raw)


def _date(raw: str) -> date:
    if _DATE.fullmatch(raw) is None:
        raise ValueError("Must be a date written YYYY-MM-DD.")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError("Is not a calendar date.") from None


def _instant(raw: str, *, end: bool) -> datetime:
    """A date (that whole day, UTC) or an RFC 3339 date-time with its offset."""
    if _DATE.fullmatch(raw) is not None:
        day = datetime.combine(_date(raw), datetime.min.time(), tzinfo=UTC)
        return day + timedelta(days=1) if end else day
    if _DATETIME.fullmatch(raw) is None:
        raise ValueError("Must be YYYY-MM-DD or an RFC 3339 date-time with offset (2025-01-31T12:00:00Z).")
    try:
        moment = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ValueError("Is not a valid date-time.") from None
    return moment + timedelta(microseconds=1) if end else moment


def _cursor(raw: str) -> Position:
    try:
        return decode_cursor(raw)
    except InvalidCursor as exc:
        raise ValueError(str(exc)) from None


def parse_cpf_param(raw: str) -> str:
    try:
        return parse_cpf(raw)
    except InvalidCpf as exc:
        raise ValueError(str(exc)) from None


_STRING = Schema(type=OpenAPIType.STRING)
_INSTANT = Schema(
    any_of=[
        Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE),
        Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE_TIME),
    ]
)

LIMIT = QueryValue(
    parse_limit, Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=MAX_LIMIT, default=DEFAULT_LIMIT)
)
CURSOR = QueryValue(_cursor, _STRING)
CPF = QueryValue(
    parse_cpf_param,
    Schema(type=OpenAPIType.STRING, pattern=r"^([0-9]{11}|[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2})$"),
)
TEXT = QueryValue(_text, _STRING)
WORDS = QueryValue(_words, _STRING)
DECIMAL = QueryValue(_decimal, Schema(type=OpenAPIType.STRING, pattern=f"^{_DECIMAL}$"))
DATE = QueryValue(_date, Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE))
INSTANT_START = QueryValue(lambda raw: _instant(raw, end=False), _INSTANT)
INSTANT_END = QueryValue(lambda raw: _instant(raw, end=True), _INSTANT)
"""An exclusive upper bound: a date covers that whole day."""
