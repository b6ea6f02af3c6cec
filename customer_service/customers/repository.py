"""Customers in PostgreSQL: plain parameterised SQL, one statement per operation, Structs out.

Every write and its ``customer_events`` row are one statement (data-modifying CTEs), so the
history can never disagree with the table. Updates and deletes are conditional on the version
the caller read (``WHERE cpf = $1 AND version = $2``): whoever loses a race changes nothing and
learns it from the empty result. Uniqueness is left to the database's unique indexes, whose
violations name the attribute: a check before the insert could not be race-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import msgspec

from customer_service.customers.schemas import (
    FIELD_COLUMNS,
    Actor,
    Customer,
    CustomerFields,
    StoredCustomer,
)
from shared.db.pool import PostgresPool

__all__ = ["CustomerRepository", "UniqueViolation", "record_to_stored"]

# SQL below is assembled from these constants only; every value is a bound $n parameter.
# version first, then the Customer fields in their declared order: see record_to_stored.
COLUMNS = (
    "version, cpf, email, name, phone_number, birthdate, profession, salary, country, state, city, "
    "zipcode, street, number, complement, created_at, updated_at"
)

SELECT_ONE = f"SELECT {COLUMNS} FROM customers WHERE cpf = $1"  # noqa: S608

SELECT_PAGE = f"SELECT {COLUMNS} FROM customers WHERE cpf > $1 ORDER BY cpf LIMIT $2"  # noqa: S608

_FIELD_PARAMS = ", ".join(f"${i}" for i in range(2, 2 + len(FIELD_COLUMNS)))
_EVENT_PARAMS = f"${2 + len(FIELD_COLUMNS)}, ${3 + len(FIELD_COLUMNS)}, ${4 + len(FIELD_COLUMNS)}"

INSERT = f"""
WITH created AS (
    INSERT INTO customers (cpf, {", ".join(FIELD_COLUMNS)})
    VALUES ($1, {_FIELD_PARAMS})
    RETURNING {COLUMNS}
), event AS (
    INSERT INTO customer_events (cpf, action, actor, changed_fields, request_id)
    SELECT cpf, 'created', {_EVENT_PARAMS} FROM created
)
SELECT {COLUMNS} FROM created
"""  # noqa: S608

_SET = ", ".join(f"{column} = ${i}" for i, column in enumerate(FIELD_COLUMNS, start=3))
_UPDATE_EVENT = ", ".join(f"${i}" for i in range(3 + len(FIELD_COLUMNS), 6 + len(FIELD_COLUMNS)))

UPDATE = f"""
WITH updated AS (
    UPDATE customers
       SET {_SET}, version = nextval('customer_version_seq'), updated_at = now()
     WHERE cpf = $1 AND version = $2
    RETURNING {COLUMNS}
), event AS (
    INSERT INTO customer_events (cpf, action, actor, changed_fields, request_id)
    SELECT cpf, 'updated', {_UPDATE_EVENT} FROM updated
)
SELECT {COLUMNS} FROM updated
"""  # noqa: S608

DELETE = """
WITH deleted AS (
    DELETE FROM customers WHERE cpf = $1 AND version = $2 RETURNING cpf
), event AS (
    INSERT INTO customer_events (cpf, action, actor, changed_fields, request_id)
    SELECT cpf, 'deleted', $3, $4, $5 FROM deleted
)
SELECT count(*) FROM deleted
"""

# Which unique attributes are taken (asked only after a unique violation, to name them all).
TAKEN = """
SELECT EXISTS (SELECT 1 FROM customers WHERE cpf = $1 AND cpf <> $4),
       EXISTS (SELECT 1 FROM customers WHERE lower(email) = lower($2) AND cpf <> $4),
       EXISTS (SELECT 1 FROM customers WHERE phone_number = $3 AND cpf <> $4)
"""

_UNIQUE_INDEXES = {
    "customers_pkey": "cpf",
    "customers_email_key": "email",
    "customers_phone_number_key": "phoneNumber",
}


class UniqueViolation(Exception):
    """The write collided with another customer's CPF, e-mail or phone (JSON names, all taken)."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


_CUSTOMER_END = 1 + len(msgspec.structs.fields(Customer))


def record_to_stored(record: asyncpg.Record) -> StoredCustomer:
    """A row of ``COLUMNS`` (possibly followed by more columns) as a StoredCustomer."""
    return StoredCustomer(Customer(*record[1:_CUSTOMER_END]), record[0])


def _field_values(fields: CustomerFields) -> list[Any]:
    return [getattr(fields, column) for column in FIELD_COLUMNS]


class CustomerRepository:
    __slots__ = ("_pool",)

    def __init__(self, pool: PostgresPool) -> None:
        self._pool = pool

    async def get(self, cpf: str) -> StoredCustomer | None:
        async with self._pool.acquire() as conn:
            record = await conn.fetchrow(SELECT_ONE, cpf)
        return None if record is None else record_to_stored(record)

    async def page(self, after: str, limit: int) -> list[StoredCustomer]:
        """Up to ``limit`` customers with a CPF greater than ``after`` ("" for the first page)."""
        async with self._pool.acquire() as conn:
            records = await conn.fetch(SELECT_PAGE, after, limit)
        return [record_to_stored(record) for record in records]

    async def insert(
        self, cpf: str, fields: CustomerFields, actor: Actor, changed: Sequence[str]
    ) -> StoredCustomer:
        args = [cpf, *_field_values(fields), actor.subject, list(changed), actor.request_id]
        async with self._pool.acquire() as conn:
            try:
                record = await conn.fetchrow(INSERT, *args)
            except asyncpg.UniqueViolationError as exc:
                raise UniqueViolation(await self._taken(conn, exc, cpf, fields, "")) from None
        assert record is not None
        return record_to_stored(record)

    async def update(
        self, cpf: str, version: int, fields: CustomerFields, actor: Actor, changed: Sequence[str]
    ) -> StoredCustomer | None:
        """The new version, or ``None`` when ``version`` is no longer current (or the row is gone)."""
        args = [cpf, version, *_field_values(fields), actor.subject, list(changed), actor.request_id]
        async with self._pool.acquire() as conn:
            try:
                record = await conn.fetchrow(UPDATE, *args)
            except asyncpg.UniqueViolationError as exc:
                raise UniqueViolation(await self._taken(conn, exc, "", fields, cpf)) from None
        return None if record is None else record_to_stored(record)

    async def delete(self, cpf: str, version: int, actor: Actor, removed: Sequence[str]) -> bool:
        async with self._pool.acquire() as conn:
            count = await conn.fetchval(DELETE, cpf, version, actor.subject, list(removed), actor.request_id)
        return bool(count)

    @staticmethod
    async def _taken(
        conn: asyncpg.Connection,
        exc: asyncpg.UniqueViolationError,
        cpf: str,
        fields: CustomerFields,
        own: str,
    ) -> list[str]:
        """Every taken attribute; at least the one the violated index names."""
        row = await conn.fetchrow(TAKEN, cpf, fields.email, fields.phone_number, own)
        names = [
            name for name, taken in zip(("cpf", "email", "phoneNumber"), row or (), strict=False) if taken
        ]
        violated = _UNIQUE_INDEXES.get(getattr(exc, "constraint_name", "") or "")
        if violated and violated not in names:
            names.append(violated)
        return names or ["cpf"]
