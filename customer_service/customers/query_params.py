"""The query parameters of the list and search endpoints, checked all at once.

Unknown and repeated parameters are refused (a typo such as ``cty=`` must not silently return
everything), and so is every malformed value; the 400 lists each problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from customer_service.customers.cpf import InvalidCpf, parse_cpf
from customer_service.customers.errors import InvalidRequest
from customer_service.customers.pagination import InvalidCursor, Position, decode_cursor, parse_limit
from customer_service.customers.schemas import FieldError

__all__ = ["ListParams", "SearchFilters", "SearchParams", "parse_list_params", "parse_search_params"]

T = TypeVar("T")

MAX_QUERY_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DECIMAL = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_PAGING = ("limit", "cursor", "lastCpf")
_TEXT_FILTERS = ("city", "state", "country", "profession")
_SEARCH = ("q", *_TEXT_FILTERS, "minSalary", "maxSalary", "bornFrom", "bornTo", "createdFrom", "createdTo")


class ListParams(msgspec.Struct, frozen=True):
    limit: int
    after: Position | None


class SearchFilters(msgspec.Struct, frozen=True, kw_only=True):
    """Exact filters; text ones compare case- and accent-insensitively, ranges are inclusive."""

    city: str | None = None
    state: str | None = None
    country: str | None = None
    profession: str | None = None
    min_salary: Decimal | None = None
    max_salary: Decimal | None = None
    born_from: date | None = None
    born_to: date | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    """Exclusive upper bound: ``createdTo`` as a date covers that whole day (UTC)."""


class SearchParams(msgspec.Struct, frozen=True):
    q: str | None
    filters: SearchFilters
    paging: ListParams


def _text(raw: str) -> str:
    value = raw.strip()
    if not value or _CONTROL.search(value) or len(value) > MAX_QUERY_CHARS:
        raise ValueError(f"Must be 1 to {MAX_QUERY_CHARS} characters, without control characters.")
    return value


def _query(raw: str) -> str:
    value = _text(raw)
    if not any(ch.isalnum() for ch in value):
        raise ValueError("Must contain a letter or a digit.")
    return value


def _decimal(raw: str) -> Decimal:
    if _DECIMAL.fullmatch(raw) is None:
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


def _single(
    query: Mapping[str, Sequence[str]], known: Sequence[str], errors: list[FieldError]
) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, given in query.items():
        if name not in known:
            errors.append(FieldError(name[:100], "Is not a parameter of this endpoint.", "query"))
        elif len(given) != 1:
            errors.append(FieldError(name, "Give it once.", "query"))
        else:
            values[name] = given[0]
    return values


def _take(
    values: Mapping[str, str], name: str, parse: Callable[[str], T], errors: list[FieldError]
) -> T | None:
    if name not in values:
        return None
    try:
        return parse(values[name])
    except ValueError as exc:
        errors.append(FieldError(name, str(exc), "query"))
        return None


def _paging(values: Mapping[str, str], errors: list[FieldError]) -> ListParams:
    limit = _take(values, "limit", parse_limit, errors)
    after = _take(values, "cursor", _cursor, errors)
    last_cpf = _take(values, "lastCpf", parse_cpf_param, errors)
    if "cursor" in values and "lastCpf" in values:
        errors.append(FieldError("lastCpf", "Give cursor or lastCpf, not both.", "query"))
    if last_cpf is not None:
        after = Position(last_cpf)
    return ListParams(limit or 20, after)


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


def parse_list_params(query: Mapping[str, Sequence[str]]) -> ListParams:
    errors: list[FieldError] = []
    values = _single(query, _PAGING, errors)
    paging = _paging(values, errors)
    if errors:
        raise InvalidRequest(errors)
    return paging


def parse_search_params(query: Mapping[str, Sequence[str]]) -> SearchParams:
    errors: list[FieldError] = []
    values = _single(query, (*_SEARCH, *_PAGING), errors)
    given: dict[str, Any] = {name: _take(values, name, _text, errors) for name in _TEXT_FILTERS}
    filters = SearchFilters(
        **given,
        min_salary=_take(values, "minSalary", _decimal, errors),
        max_salary=_take(values, "maxSalary", _decimal, errors),
        born_from=_take(values, "bornFrom", _date, errors),
        born_to=_take(values, "bornTo", _date, errors),
        created_from=_take(values, "createdFrom", lambda raw: _instant(raw, end=False), errors),
        created_before=_take(values, "createdTo", lambda raw: _instant(raw, end=True), errors),
    )
    q = _take(values, "q", _query, errors)
    paging = _paging(values, errors)
    for low, high, name in (
        (filters.min_salary, filters.max_salary, "maxSalary"),
        (filters.born_from, filters.born_to, "bornTo"),
        (filters.created_from, filters.created_before, "createdTo"),
    ):
        if low is not None and high is not None and high < low:  # type: ignore[operator]
            errors.append(FieldError(name, "Is before the lower bound of its range.", "query"))
    if errors:
        raise InvalidRequest(errors)
    return SearchParams(q, filters, paging)
