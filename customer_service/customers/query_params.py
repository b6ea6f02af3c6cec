"""The query parameters of the list and search endpoints: declared once, read all at once.

Each parameter is one field of the Struct its endpoint reads (``ListQuery``, ``SearchQuery``):
the field's camelCase name is the parameter's, and its ``QueryParam`` gives the kind of value it
takes (parser and OpenAPI schema, ``query_values.py``) and what it means. ``read`` and the
OpenAPI parameters (``openapi.query_operation``) both work from those fields, so the parser and
the document cannot drift apart. Litestar does not parse these parameters: its validation answers
one 400 of its own per parameter, whereas ours lists every problem at once, unknown and repeated
parameters included (a typo such as ``cty=`` must not silently return everything).
"""

from __future__ import annotations

import functools
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Self, get_origin

import msgspec

from customer_service.customers.errors import InvalidRequest
from customer_service.customers.pagination import DEFAULT_LIMIT, Position
from customer_service.customers.query_values import (
    CPF,
    CURSOR,
    DATE,
    DECIMAL,
    INSTANT_END,
    INSTANT_START,
    LIMIT,
    TEXT,
    WORDS,
    QueryValue,
)
from customer_service.customers.schemas import FieldError

__all__ = ["DeclaredQuery", "ListQuery", "QueryParam", "SearchFilters", "SearchQuery", "declared_params"]


@dataclass(frozen=True, slots=True)
class QueryParam:
    """The metadata of one declared parameter: ``Annotated[type, QueryParam(kind, meaning)]``."""

    value: QueryValue
    description: str


@functools.cache
def declared_params(cls: type[DeclaredQuery]) -> tuple[tuple[str, str, QueryParam], ...]:
    """(attribute, parameter name, declaration) of every field of ``cls``, in declaration order."""
    declared = []
    for field in msgspec.structs.fields(cls):
        metadata = field.type.__metadata__ if get_origin(field.type) is Annotated else ()
        params = [meta for meta in metadata if isinstance(meta, QueryParam)]
        if len(params) != 1:
            raise TypeError(f"{cls.__name__}.{field.name} needs one QueryParam")
        declared.append((field.name, field.encode_name, params[0]))
    return tuple(declared)


@functools.cache
def _names(cls: type[DeclaredQuery]) -> frozenset[str]:
    return frozenset(name for _, name, _ in declared_params(cls))


class DeclaredQuery(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Base of the query Structs: every field is ``Annotated[type, QueryParam(...)] = default``."""

    @classmethod
    def read(cls, query: Mapping[str, Sequence[str]]) -> Self:
        """The parameters of ``query`` (name -> every value given); ``InvalidRequest`` lists each
        unknown, repeated or malformed one, in that order, then what is wrong across them."""
        declared = declared_params(cls)
        errors: list[FieldError] = []
        values = _single(query, _names(cls), errors)
        parsed: dict[str, Any] = {}
        for attribute, name, param in declared:
            if name in values:
                try:
                    parsed[attribute] = param.value.parse(values[name])
                except ValueError as exc:
                    errors.append(FieldError(name, str(exc), "query"))
        result = cls(**parsed)
        errors.extend(result.conflicts(values))
        if errors:
            raise InvalidRequest(errors)
        return result

    def conflicts(self, given: Container[str]) -> list[FieldError]:
        """What is wrong across parameters; ``given`` holds the names given (once)."""
        return []


def _single(
    query: Mapping[str, Sequence[str]], known: Container[str], errors: list[FieldError]
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


Limit = Annotated[int, QueryParam(LIMIT, "How many customers a page holds.")]
Cursor = Annotated[Position | None, QueryParam(CURSOR, "Where the page starts: nextCursor of the last page.")]
LastCpf = Annotated[str | None, QueryParam(CPF, "Start after this CPF instead (not for ranked searches).")]


def _filter(what: str) -> QueryParam:
    return QueryParam(TEXT, f"Only customers whose {what} is this (case and accents ignored).")


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


def _paging_conflicts(given: Container[str]) -> list[FieldError]:
    if "cursor" in given and "lastCpf" in given:
        return [FieldError("lastCpf", "Give cursor or lastCpf, not both.", "query")]
    return []


class ListQuery(DeclaredQuery, frozen=True, kw_only=True):
    """``GET /customers``: a page in CPF order."""

    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None
    last_cpf: LastCpf = None

    @property
    def after(self) -> Position | None:
        return Position(self.last_cpf) if self.last_cpf is not None else self.cursor

    def conflicts(self, given: Container[str]) -> list[FieldError]:
        return _paging_conflicts(given)


class SearchQuery(DeclaredQuery, frozen=True, kw_only=True):
    """``GET /customers/search``: filters, the ranked text query, paging (checked in this order)."""

    city: Annotated[str | None, _filter("city")] = None
    state: Annotated[str | None, _filter("state")] = None
    country: Annotated[str | None, _filter("country")] = None
    profession: Annotated[str | None, _filter("profession")] = None
    min_salary: Annotated[Decimal | None, QueryParam(DECIMAL, "Lowest salary.")] = None
    max_salary: Annotated[Decimal | None, QueryParam(DECIMAL, "Highest salary.")] = None
    born_from: Annotated[date | None, QueryParam(DATE, "Earliest birthdate.")] = None
    born_to: Annotated[date | None, QueryParam(DATE, "Latest birthdate.")] = None
    created_from: Annotated[
        datetime | None, QueryParam(INSTANT_START, "Created at or after this (a date: from its start, UTC).")
    ] = None
    created_to: Annotated[
        datetime | None, QueryParam(INSTANT_END, "Created at or before this (a date: that whole day, UTC).")
    ] = None
    """Held as the exclusive bound ``created_before`` of the filters."""
    q: Annotated[str | None, QueryParam(WORDS, "Words to find in any attribute, ranked by relevance.")] = None
    limit: Limit = DEFAULT_LIMIT
    cursor: Cursor = None
    last_cpf: LastCpf = None

    @property
    def after(self) -> Position | None:
        return Position(self.last_cpf) if self.last_cpf is not None else self.cursor

    @property
    def filters(self) -> SearchFilters:
        return SearchFilters(
            city=self.city,
            state=self.state,
            country=self.country,
            profession=self.profession,
            min_salary=self.min_salary,
            max_salary=self.max_salary,
            born_from=self.born_from,
            born_to=self.born_to,
            created_from=self.created_from,
            created_before=self.created_to,
        )

    def conflicts(self, given: Container[str]) -> list[FieldError]:
        errors = _paging_conflicts(given)
        ranges: tuple[tuple[Any, Any, str], ...] = (
            (self.min_salary, self.max_salary, "maxSalary"),
            (self.born_from, self.born_to, "bornTo"),
            (self.created_from, self.created_to, "createdTo"),
        )
        for low, high, name in ranges:
            if low is not None and high is not None and high < low:
                errors.append(FieldError(name, "Is before the lower bound of its range.", "query"))
        return errors
