"""The customer rules: validation, the CPF as an immutable key, preconditions, and the event log.

Every update is read -> decide -> write-if-unchanged: the service reads the current version,
checks ``If-Match`` against it, computes the new state (for PATCH, RFC 7396 merge onto what was
read) and the changed field names, then writes with ``WHERE version = <read>``. A concurrent
writer in between makes that write change nothing: with ``If-Match`` the answer is 412 (the
client's copy is stale); without it (when not required) the service starts over from a fresh read,
so even unconditional PATCHes never lose a concurrent change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from customer_service.customers.errors import (
    AlreadyRegistered,
    CustomerNotFound,
    InvalidCustomer,
    PreconditionFailed,
    PreconditionRequired,
    WriteContention,
)
from customer_service.customers.etags import Preconditions
from customer_service.customers.fields import JSON_NAMES, REQUIRED, FieldRules, InvalidValue
from customer_service.customers.pagination import Position
from customer_service.customers.repository import CustomerRepository, UniqueViolation
from customer_service.customers.schemas import (
    FIELD_COLUMNS,
    Actor,
    Customer,
    CustomerFields,
    FieldError,
    StoredCustomer,
)

__all__ = ["CustomerService", "Page"]

_UNCONDITIONAL_ATTEMPTS = 5
_COLUMN_TO_JSON = {column: name for name, column in JSON_NAMES.items()}


class Page(msgspec.Struct, frozen=True):
    items: list[StoredCustomer]
    next: Position | None


def _fields_of(customer: Customer) -> CustomerFields:
    return CustomerFields(**{column: getattr(customer, column) for column in FIELD_COLUMNS})


def _set_fields(fields: CustomerFields) -> list[str]:
    return [_COLUMN_TO_JSON[c] for c in FIELD_COLUMNS if getattr(fields, c) is not None]


def _changed(before: CustomerFields, after: CustomerFields) -> list[str]:
    return [_COLUMN_TO_JSON[c] for c in FIELD_COLUMNS if getattr(before, c) != getattr(after, c)]


class CustomerService:
    __slots__ = ("_repository", "_require_if_match", "_rules")

    def __init__(
        self,
        repository: CustomerRepository,
        *,
        require_if_match: bool = True,
        rules: FieldRules | None = None,
    ) -> None:
        self._repository = repository
        self._require_if_match = require_if_match
        self._rules = rules or FieldRules()

    # ----------------------------------------------------------------- reads
    async def get(self, cpf: str) -> StoredCustomer:
        stored = await self._repository.get(cpf)
        if stored is None:
            raise CustomerNotFound()
        return stored

    async def page(self, after: str, limit: int) -> Page:
        rows = await self._repository.page(after, limit + 1)
        more = len(rows) > limit
        items = rows[:limit]
        return Page(items, Position(items[-1].customer.cpf) if more else None)

    # ---------------------------------------------------------------- writes
    async def create(self, document: Mapping[str, Any], actor: Actor) -> StoredCustomer:
        errors: list[FieldError] = []
        cpf = ""
        if "cpf" not in document:
            errors.append(FieldError("cpf", "Is required."))
        else:
            try:
                cpf = self._rules.cpf(document["cpf"])
            except InvalidValue as exc:
                errors.append(FieldError("cpf", str(exc)))
        fields = self._complete(document, errors)
        try:
            return await self._repository.insert(cpf, fields, actor, _set_fields(fields))
        except UniqueViolation as exc:
            raise AlreadyRegistered(exc.fields) from None

    async def replace(
        self, cpf: str, document: Mapping[str, Any], preconditions: Preconditions, actor: Actor
    ) -> StoredCustomer:
        """PUT: ``document`` is the whole customer; attributes it leaves out become null."""
        self._require(preconditions)
        errors: list[FieldError] = []
        self._check_same_cpf(cpf, document, errors)
        fields = self._complete(document, errors)
        return await self._update(cpf, preconditions, actor, lambda _: fields)

    async def patch(
        self, cpf: str, patch: Mapping[str, Any], preconditions: Preconditions, actor: Actor
    ) -> StoredCustomer:
        """PATCH (RFC 7396): members present replace, ``null`` removes, absent ones stay."""
        self._require(preconditions)
        errors: list[FieldError] = []
        self._check_same_cpf(cpf, patch, errors)
        changes = self._rules.values(patch, errors)
        if errors:
            raise InvalidCustomer(errors)
        return await self._update(
            cpf, preconditions, actor, lambda current: msgspec.structs.replace(current, **changes)
        )

    async def delete(self, cpf: str, preconditions: Preconditions, actor: Actor) -> None:
        """``If-Match`` is honoured when sent; a DELETE without it removes whatever is current."""
        for _ in range(_UNCONDITIONAL_ATTEMPTS):
            current = await self._current(cpf, preconditions)
            removed = _set_fields(_fields_of(current.customer))
            if await self._repository.delete(cpf, current.version, actor, removed):
                return
            if preconditions.pins_version:
                await self._current(cpf, preconditions)  # 404 if deleted meanwhile, else 412
                raise PreconditionFailed()
        raise WriteContention()

    # --------------------------------------------------------------- helpers
    def _require(self, preconditions: Preconditions) -> None:
        if self._require_if_match and not preconditions.has_if_match:
            raise PreconditionRequired()

    def _check_same_cpf(self, cpf: str, document: Mapping[str, Any], errors: list[FieldError]) -> None:
        if "cpf" not in document:
            return
        try:
            same = self._rules.cpf(document["cpf"]) == cpf
        except InvalidValue:
            same = False
        if not same:
            errors.append(FieldError("cpf", "Cannot be changed: it is the customer's key."))

    def _complete(self, document: Mapping[str, Any], errors: list[FieldError]) -> CustomerFields:
        """A whole customer: required attributes must be present, absent optional ones are null."""
        values = self._rules.values(document, errors)
        errors.extend(FieldError(name, "Is required.") for name in sorted(REQUIRED) if name not in document)
        if errors:
            raise InvalidCustomer(errors)
        return CustomerFields(**values)

    async def _current(self, cpf: str, preconditions: Preconditions) -> StoredCustomer:
        current = await self._repository.get(cpf)
        if current is None:
            if not preconditions.hold_for_absent():
                raise PreconditionFailed()
            raise CustomerNotFound()
        if not preconditions.hold_for(current.version):
            raise PreconditionFailed()
        return current

    async def _update(
        self,
        cpf: str,
        preconditions: Preconditions,
        actor: Actor,
        new_fields: Callable[[CustomerFields], CustomerFields],
    ) -> StoredCustomer:
        for _ in range(_UNCONDITIONAL_ATTEMPTS):
            current = await self._current(cpf, preconditions)
            before = _fields_of(current.customer)
            after: CustomerFields = new_fields(before)
            changed = _changed(before, after)
            if not changed:
                return current  # nothing to write: same version, same ETag, no event
            try:
                updated = await self._repository.update(cpf, current.version, after, actor, changed)
            except UniqueViolation as exc:
                raise AlreadyRegistered(exc.fields) from None
            if updated is not None:
                return updated
            if preconditions.pins_version:
                await self._current(cpf, preconditions)  # 404 if deleted meanwhile, else 412
                raise PreconditionFailed()
        raise WriteContention()
