"""Refresh-token families (one per login) and their rotated tokens (asyncpg only).

The hot paths are one statement each: a login creates the family and its first token together; a
refresh claims the presented token (atomically: of two concurrent uses exactly one wins), issues
its successor and reads the user's current roles and scopes, all in one round trip. The family
keeps how its login was made (``auth_time``, ``amr``, ``acr``), which every refreshed access token
carries again: refreshing neither strengthens nor renews a login.

A refresh locks the family row before it claims the token, and every revocation of a family updates
that row: so a refresh and a revocation are serialised. Either the refresh waits, then sees the
family revoked and issues nothing, or it commits first and the revocation that follows covers the
access token it issued (its ``sid``; its ``iat`` is not later than the revocation). The claimed row
keeps its successor's digest and the successor sealed, so that a repeat within the reuse grace
(``successors.py``) can answer the same successor again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from auth_service.tokens.access import LoginAssurance

__all__ = [
    "CURRENT_POWERS",
    "LOGIN_COLUMNS",
    "Family",
    "FamilyRepository",
    "PresentedToken",
    "Rotated",
    "SessionBounds",
    "rotated_from",
]

_CREATE = """
WITH family AS (
    INSERT INTO refresh_families (id, user_id, client_id, scope, resources, expires_at, source_ip,
                                  browser_session_id, auth_time, amr, acr)
    VALUES ($10, $1, $2, $3, $11, now() + make_interval(secs => $4), $5::inet, $12,
            to_timestamp($13), $14, $15)
    RETURNING id, expires_at
)
INSERT INTO refresh_tokens (digest, family_id, expires_at, access_jti, access_expires_at)
SELECT $6, id, least(now() + make_interval(secs => $7), expires_at), $8, to_timestamp($9) FROM family
RETURNING family_id
"""
CURRENT_POWERS = """
       ARRAY(SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
             WHERE ur.user_id = c.user_id ORDER BY r.name) AS roles,
       ARRAY(SELECT DISTINCT s FROM user_roles ur JOIN roles r ON r.id = ur.role_id
             CROSS JOIN unnest(r.scopes) AS s WHERE ur.user_id = c.user_id ORDER BY s) AS scopes
"""
LOGIN_COLUMNS = "floor(extract(epoch FROM f.auth_time))::bigint AS auth_time, f.amr, f.acr"
"""How the family's login was made, from ``refresh_families f`` (``rotated_from`` reads them)."""
# The family row is locked first (an UPDATE re-checks its WHERE against a revocation that committed
# while it waited), then the token is claimed: of concurrent uses, exactly one claims it.
_ROTATE = f"""
WITH family AS (
    UPDATE refresh_families AS f SET last_used_at = now()
    FROM refresh_tokens AS t, users AS u
    WHERE t.digest = $1 AND t.used_at IS NULL AND t.expires_at > now()
      AND f.id = t.family_id AND f.revoked_at IS NULL AND f.expires_at > now() AND f.client_id = $2
      AND u.id = f.user_id AND u.status = 'active'
      AND string_to_array(f.scope, ' ') @> $7::text[]
      AND f.resources @> $8::text[] AND ($9::text[] IS NULL OR f.resources <@ $9::text[])
    RETURNING f.id AS family_id, f.scope, f.resources, f.expires_at AS family_expires_at,
              u.id AS user_id, u.email::text AS email, {LOGIN_COLUMNS}
), claimed AS (
    UPDATE refresh_tokens AS t
    SET used_at = to_timestamp($11), successor_digest = $3, successor_sealed = $10
    FROM family WHERE t.digest = $1 AND t.family_id = family.family_id AND t.used_at IS NULL
    RETURNING family.family_id, family.scope, family.resources, family.family_expires_at,
              family.user_id, family.email, family.auth_time, family.amr, family.acr
), issued AS (
    INSERT INTO refresh_tokens (digest, family_id, expires_at, access_jti, access_expires_at)
    SELECT $3, family_id, least(now() + make_interval(secs => $4), family_expires_at), $5, to_timestamp($6)
    FROM claimed
)
SELECT c.family_id, c.scope, c.resources, c.user_id, c.email, c.auth_time, c.amr, c.acr,
       {CURRENT_POWERS}
FROM claimed c
"""  # noqa: S608
_INSPECT = """
SELECT t.family_id, f.user_id, u.email::text AS email, f.client_id, f.scope, f.resources,
       t.used_at IS NOT NULL AS used,
       (t.expires_at <= now() OR f.expires_at <= now()) AS expired,
       f.revoked_at IS NOT NULL AS revoked,
       u.status = 'active' AS user_active,
       extract(epoch FROM t.created_at)::bigint AS issued_at,
       extract(epoch FROM least(t.expires_at, f.expires_at))::bigint AS expires_at
FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id JOIN users u ON u.id = f.user_id
WHERE t.digest = $1
"""
_REVOKE = """
UPDATE refresh_families SET revoked_at = now(), revoked_reason = $2
WHERE id = $1 AND revoked_at IS NULL RETURNING id
"""
_REVOKE_USER = """
UPDATE refresh_families SET revoked_at = now(), revoked_reason = $2
WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $3 RETURNING id
"""
_REVOKE_USER_CLIENT = """
UPDATE refresh_families SET revoked_at = now(), revoked_reason = $3
WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL RETURNING id
"""
_FAMILY_COLUMNS = """
id, user_id, client_id, scope, created_at, last_used_at, expires_at, revoked_at, revoked_reason,
host(source_ip) AS source_ip
"""
_LIST_FOR_USER = f"""
SELECT {_FAMILY_COLUMNS} FROM refresh_families
WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() ORDER BY created_at DESC LIMIT 500
"""  # noqa: S608
_GET = f"SELECT {_FAMILY_COLUMNS} FROM refresh_families WHERE id = $1"  # noqa: S608


class SessionBounds(msgspec.Struct, frozen=True):
    """What a session must satisfy to be refreshed: granted every scope in ``scopes``, targeting
    every resource in ``resources`` and (unless ``None``) nothing beyond ``allowed``."""

    scopes: list[str]
    resources: list[str]
    allowed: list[str] | None


class Rotated(msgspec.Struct, frozen=True):
    family_id: UUID
    scope: str
    """The grant: what the login was given (a refresh narrows within it)."""
    resources: list[str]
    """The first token's audience: a refresh naming no ``resource`` gets it again."""
    user_id: UUID
    email: str
    roles: list[str]
    scopes: list[str]
    login: LoginAssurance | None
    """How the family's login was made (``None``: a family older than that record)."""


def rotated_from(values: dict[str, Any]) -> Rotated:
    """A rotation's row (``LOGIN_COLUMNS`` among its columns) as a ``Rotated``."""
    auth_time, amr, acr = values.pop("auth_time"), values.pop("amr"), values.pop("acr")
    login = None if auth_time is None else LoginAssurance(auth_time=auth_time, amr=list(amr), acr=acr)
    return Rotated(**values, login=login)


class PresentedToken(msgspec.Struct, frozen=True):
    """What a refresh token that did not rotate is, so the caller can say why."""

    family_id: UUID
    user_id: UUID
    email: str
    client_id: str
    scope: str
    resources: list[str]
    used: bool
    expired: bool
    revoked: bool
    user_active: bool
    issued_at: int
    expires_at: int

    @property
    def active(self) -> bool:
        return not (self.used or self.expired or self.revoked) and self.user_active


class Family(msgspec.Struct, frozen=True):
    id: UUID
    user_id: UUID
    client_id: str
    scope: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    source_ip: str | None


class FamilyRepository:
    __slots__ = ()

    async def create(
        self,
        conn: asyncpg.Connection,
        *,
        family_id: UUID,
        user_id: UUID,
        client_id: str,
        scope: str,
        resources: list[str],
        family_ttl: int,
        source_ip: str | None,
        token_digest: bytes,
        token_ttl: int,
        access_jti: str,
        access_exp: int,
        login: LoginAssurance,
        browser_session_id: UUID | None = None,
    ) -> UUID:
        """``browser_session_id``: the SSO session whose login this is (ending it revokes the family);
        ``login``: how the person logged in, which the family's refreshed tokens say again."""
        created: UUID = await conn.fetchval(
            _CREATE,
            user_id,
            client_id,
            scope,
            family_ttl,
            source_ip,
            token_digest,
            token_ttl,
            access_jti,
            access_exp,
            family_id,
            resources,
            browser_session_id,
            login.auth_time,
            login.amr,
            login.acr,
        )
        return created

    async def rotate(
        self,
        conn: asyncpg.Connection,
        *,
        presented: bytes,
        client_id: str,
        successor: bytes,
        successor_sealed: bytes | None,
        now: float,
        token_ttl: int,
        access_jti: str,
        access_exp: int,
        bounds: SessionBounds,
    ) -> Rotated | None:
        """Claims ``presented`` only if its family is within ``bounds``; records it used at ``now``
        (Unix time) and rotated into ``successor``."""
        row = await conn.fetchrow(
            _ROTATE,
            presented,
            client_id,
            successor,
            token_ttl,
            access_jti,
            access_exp,
            bounds.scopes,
            bounds.resources,
            bounds.allowed,
            successor_sealed,
            now,
        )
        return None if row is None else rotated_from(dict(row))

    async def inspect(self, conn: asyncpg.Connection, digest: bytes) -> PresentedToken | None:
        row = await conn.fetchrow(_INSPECT, digest)
        return None if row is None else PresentedToken(**dict(row))

    async def revoke(self, conn: asyncpg.Connection, family_id: UUID, reason: str) -> list[UUID]:
        """The family's id if this revoked it (``[]``: already revoked or unknown), for the
        ``sid`` revocation of its access tokens."""
        return [r["id"] for r in await conn.fetch(_REVOKE, family_id, reason)]

    async def revoke_user(
        self, conn: asyncpg.Connection, user_id: UUID, reason: str, keep: UUID | None = None
    ) -> list[UUID]:
        """The ids of the families this revoked (every live one of the user but ``keep``)."""
        return [r["id"] for r in await conn.fetch(_REVOKE_USER, user_id, reason, keep)]

    async def revoke_user_client(
        self, conn: asyncpg.Connection, user_id: UUID, client_id: str, reason: str
    ) -> list[UUID]:
        """The ids of the families this revoked: every live one of the user with ``client_id``."""
        return [r["id"] for r in await conn.fetch(_REVOKE_USER_CLIENT, user_id, client_id, reason)]

    async def list_for_user(self, conn: asyncpg.Connection, user_id: UUID) -> list[Family]:
        return [Family(**dict(r)) for r in await conn.fetch(_LIST_FOR_USER, user_id)]

    async def get(self, conn: asyncpg.Connection, family_id: UUID) -> Family | None:
        row = await conn.fetchrow(_GET, family_id)
        return None if row is None else Family(**dict(row))
