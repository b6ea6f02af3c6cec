"""The ``users`` and ``user_roles`` tables (asyncpg only); a taken email is ``EmailTaken``."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from auth_service.errors import EmailTaken

__all__ = ["USER_COLUMNS", "UserProfile", "UserRecord", "UserRepository"]

USER_COLUMNS = """
       u.id, u.email::text AS email, u.password_hash, u.status, u.created_at, u.updated_at,
       u.last_login_at, u.password_changed_at,
       u.email_verified, u.name, u.given_name, u.family_name, u.locale,
       ARRAY(SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
             WHERE ur.user_id = u.id ORDER BY r.name) AS roles,
       ARRAY(SELECT DISTINCT s FROM user_roles ur JOIN roles r ON r.id = ur.role_id
             CROSS JOIN unnest(r.scopes) AS s WHERE ur.user_id = u.id ORDER BY s) AS scopes
"""
"""A ``UserRecord``'s columns from ``users u``, for a statement that reads a user with something
else in one round trip (the authorization code grant reads the code and its person together)."""
_SELECT = f"SELECT {USER_COLUMNS}FROM users u\n"
_BY_EMAIL = _SELECT + "WHERE u.email = $1"
_BY_ID = _SELECT + "WHERE u.id = $1"
_LIST = _SELECT + "WHERE ($1::citext IS NULL OR u.email > $1) ORDER BY u.email LIMIT $2"
_INSERT = """
INSERT INTO users (email, password_hash, email_verified, name, given_name, family_name, locale)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
"""
_SET_PROFILE = """
UPDATE users SET email_verified = $2, name = $3, given_name = $4, family_name = $5, locale = $6,
                 updated_at = now()
WHERE id = $1
"""
_CLEAR_ROLES = "DELETE FROM user_roles WHERE user_id = $1"
_ADD_ROLES = "INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE name = ANY($2::text[])"
_UPDATE = """
UPDATE users SET email = coalesce($2, email), status = coalesce($3, status), updated_at = now()
WHERE id = $1
"""
_SET_PASSWORD = (
    "UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now() WHERE id = $1"  # noqa: S105
)
_REHASH = "UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3"
_RECORD_LOGIN = "UPDATE users SET last_login_at = now() WHERE id = $1"
_DELETE = "DELETE FROM users WHERE id = $1"
# Some active account (other than $2) whose roles together hold every one of $1 ("administer all").
_ADMINISTRATOR_EXISTS = """
SELECT EXISTS (
    SELECT 1 FROM users u
    WHERE u.status = 'active' AND ($2::uuid IS NULL OR u.id <> $2) AND $1::text[] <@ ARRAY(
        SELECT s FROM user_roles ur JOIN roles r ON r.id = ur.role_id CROSS JOIN unnest(r.scopes) AS s
        WHERE ur.user_id = u.id)
)
"""


class UserProfile(msgspec.Struct, frozen=True, kw_only=True):
    """The OpenID Connect standard claims of a person kept here (``oidc/claims.py`` reads them)."""

    email_verified: bool = False
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    locale: str | None = None
    """A BCP 47 language tag (``pt-BR``)."""

    def values(self) -> tuple[object, ...]:
        return (self.email_verified, self.name, self.given_name, self.family_name, self.locale)


class UserRecord(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    password_hash: str
    status: str
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    password_changed_at: datetime
    roles: list[str]
    scopes: list[str]
    email_verified: bool = False
    """Set by an admin (issue 14 adds verification mails); a new or changed email is unverified."""
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    locale: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def profile(self) -> UserProfile:
        return UserProfile(
            email_verified=self.email_verified,
            name=self.name,
            given_name=self.given_name,
            family_name=self.family_name,
            locale=self.locale,
        )


def _record(row: asyncpg.Record | None) -> UserRecord | None:
    return None if row is None else UserRecord(**dict(row))


class UserRepository:
    __slots__ = ()

    async def by_email(self, conn: asyncpg.Connection, email: str) -> UserRecord | None:
        return _record(await conn.fetchrow(_BY_EMAIL, email))

    async def by_id(self, conn: asyncpg.Connection, user_id: UUID) -> UserRecord | None:
        return _record(await conn.fetchrow(_BY_ID, user_id))

    async def page(self, conn: asyncpg.Connection, after_email: str | None, limit: int) -> list[UserRecord]:
        return [UserRecord(**dict(r)) for r in await conn.fetch(_LIST, after_email, limit)]

    async def insert(
        self,
        conn: asyncpg.Connection,
        email: str,
        password_hash: str,
        roles: list[str],
        profile: UserProfile | None = None,
    ) -> UUID:
        """Raises ``EmailTaken`` when the email is taken (in any letter case)."""
        values = (profile or UserProfile()).values()
        try:
            async with conn.transaction():
                user_id: UUID = await conn.fetchval(_INSERT, email, password_hash, *values)
                await conn.execute(_ADD_ROLES, user_id, roles)
        except asyncpg.UniqueViolationError:
            raise EmailTaken() from None
        return user_id

    async def update(
        self,
        conn: asyncpg.Connection,
        user_id: UUID,
        *,
        email: str | None = None,
        status: str | None = None,
        roles: list[str] | None = None,
    ) -> bool:
        """Raises ``EmailTaken`` when the new email is another account's."""
        try:
            async with conn.transaction():
                found = await conn.execute(_UPDATE, user_id, email, status) == "UPDATE 1"
                if found and roles is not None:
                    await conn.execute(_CLEAR_ROLES, user_id)
                    await conn.execute(_ADD_ROLES, user_id, roles)
        except asyncpg.UniqueViolationError:
            raise EmailTaken() from None
        return found

    async def set_profile(self, conn: asyncpg.Connection, user_id: UUID, profile: UserProfile) -> bool:
        return await conn.execute(_SET_PROFILE, user_id, *profile.values()) == "UPDATE 1"

    async def set_password(self, conn: asyncpg.Connection, user_id: UUID, password_hash: str) -> bool:
        return await conn.execute(_SET_PASSWORD, user_id, password_hash) == "UPDATE 1"

    async def rehash(self, conn: asyncpg.Connection, user_id: UUID, new_hash: str, old_hash: str) -> None:
        """Replace the hash only if nobody changed the password meanwhile."""
        await conn.execute(_REHASH, user_id, new_hash, old_hash)

    async def record_login(self, conn: asyncpg.Connection, user_id: UUID) -> None:
        await conn.execute(_RECORD_LOGIN, user_id)

    async def delete(self, conn: asyncpg.Connection, user_id: UUID) -> bool:
        return await conn.execute(_DELETE, user_id) == "DELETE 1"

    async def administrator_exists(
        self, conn: asyncpg.Connection, scopes: list[str], *, without: UUID | None = None
    ) -> bool:
        """Whether some active account (not ``without``) holds all of ``scopes`` through its roles."""
        return bool(await conn.fetchval(_ADMINISTRATOR_EXISTS, scopes, without))
