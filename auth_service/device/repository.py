"""The ``device_authorizations`` table (asyncpg only): one row from the device's request to its tokens.

A row is found two ways: by the user code (the page, while ``pending``) and by the SHA-256 of the
device code (the token endpoint's polls). Every change is one conditional statement, so a row is
approved or denied once, and claimed (``used``) once: ``poll`` locks the row for the transaction
the grant issues its tokens in.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from shared.db.pool import Connection

__all__ = ["DevicePoll", "DeviceRepository", "NewDeviceAuthorization", "PendingDevice"]

_CREATE = """
INSERT INTO device_authorizations (device_digest, user_code, client_id, scope, resources,
                                   interval_seconds, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
ON CONFLICT DO NOTHING RETURNING user_code
"""
_PENDING = """
SELECT d.user_code, d.client_id, c.client_name, string_to_array(d.scope, ' ') AS scopes, d.resources,
       d.expires_at
FROM device_authorizations d JOIN oauth_clients c ON c.client_id = d.client_id
WHERE d.user_code = $1 AND d.status = 'pending' AND d.expires_at > now()
"""
# The grant is the request's scopes narrowed to the user's current ones; identity scopes ($7) need
# no role (``oidc/scopes.py``).
_APPROVE = """
UPDATE device_authorizations AS d
SET status = 'approved', user_id = $2, browser_session_id = $3, auth_time = to_timestamp($4),
    amr = $5, acr = $6,
    granted_scope = array_to_string(ARRAY(
        SELECT s FROM unnest(string_to_array(d.scope, ' ')) AS s
        WHERE s = ANY($7::text[]) OR s IN (
            SELECT rs FROM user_roles ur JOIN roles r ON r.id = ur.role_id CROSS JOIN unnest(r.scopes) AS rs
            WHERE ur.user_id = $2)
        ORDER BY s), ' ')
WHERE d.user_code = $1 AND d.status = 'pending' AND d.expires_at > now()
RETURNING d.client_id, d.granted_scope
"""
_DENY = """
UPDATE device_authorizations SET status = 'denied'
WHERE user_code = $1 AND status = 'pending' AND expires_at > now() RETURNING client_id
"""
# ``too_soon`` keeps a tenth of the interval as leeway for network jitter between two polls.
_POLL = """
SELECT client_id, status, expires_at <= now() AS expired,
       last_polled_at IS NOT NULL
           AND now() < last_polled_at + make_interval(secs => interval_seconds * 0.9) AS too_soon,
       user_id, browser_session_id, string_to_array(coalesce(granted_scope, ''), ' ') AS scopes,
       resources, floor(extract(epoch FROM auth_time))::bigint AS auth_time, coalesce(amr, '{}') AS amr,
       coalesce(acr, '') AS acr,
       EXISTS (SELECT 1 FROM browser_sessions b WHERE b.id = browser_session_id AND b.ended_at IS NOT NULL)
           AS session_ended
FROM device_authorizations WHERE device_digest = $1 FOR UPDATE
"""
_POLLED = """
UPDATE device_authorizations
SET last_polled_at = now(),
    interval_seconds = CASE WHEN $2 THEN least(interval_seconds + 5, 60) ELSE interval_seconds END
WHERE device_digest = $1
"""
_USED = "UPDATE device_authorizations SET status = 'used', last_polled_at = now() WHERE device_digest = $1"


class NewDeviceAuthorization(msgspec.Struct, frozen=True):
    client_id: str
    scopes: list[str]
    """What was asked (identity and resource scopes); empty asks for the client's own."""
    resources: list[str]
    """The audience resolved at the request (empty: identity scopes only, the userinfo audience)."""
    interval: int
    ttl: int


class PendingDevice(msgspec.Struct, frozen=True):
    """What the confirmation page shows about a code still waiting for a person."""

    user_code: str
    client_id: str
    client_name: str
    scopes: list[str]
    resources: list[str]
    expires_at: datetime


class DevicePoll(msgspec.Struct, frozen=True):
    """A row as a poll sees it, locked until the poll's transaction ends."""

    client_id: str
    status: str
    expired: bool
    too_soon: bool
    user_id: UUID | None
    browser_session_id: UUID | None
    scopes: list[str]
    resources: list[str]
    auth_time: int | None
    amr: list[str]
    acr: str
    session_ended: bool
    """The browser session that approved it ended since (logged out): nothing is issued."""


class DeviceRepository:
    __slots__ = ()

    async def create(
        self, conn: Connection, digest: bytes, user_code: str, new: NewDeviceAuthorization
    ) -> bool:
        """False when the user code is taken (the caller draws another)."""
        row = await conn.fetchrow(
            _CREATE,
            digest,
            user_code,
            new.client_id,
            " ".join(new.scopes),
            new.resources,
            new.interval,
            new.ttl,
        )
        return row is not None

    async def pending(self, conn: Connection, user_code: str) -> PendingDevice | None:
        row = await conn.fetchrow(_PENDING, user_code)
        if row is None:
            return None
        return PendingDevice(
            user_code=row["user_code"],
            client_id=row["client_id"],
            client_name=row["client_name"],
            scopes=[s for s in row["scopes"] if s],
            resources=list(row["resources"]),
            expires_at=row["expires_at"],
        )

    async def approve(
        self,
        conn: Connection,
        user_code: str,
        *,
        user_id: UUID,
        browser_session_id: UUID | None,
        auth_time: int,
        amr: list[str],
        acr: str,
        identity_scopes: list[str],
    ) -> tuple[str, list[str]] | None:
        """``(client_id, granted scopes)``, or None if the code is no longer pending."""
        row = await conn.fetchrow(
            _APPROVE, user_code, user_id, browser_session_id, auth_time, amr, acr, identity_scopes
        )
        if row is None:
            return None
        return row["client_id"], [s for s in row["granted_scope"].split(" ") if s]

    async def deny(self, conn: Connection, user_code: str) -> str | None:
        """The client id, or None if the code is no longer pending."""
        client_id: str | None = await conn.fetchval(_DENY, user_code)
        return client_id

    async def poll(self, conn: Connection, digest: bytes) -> DevicePoll | None:
        """Locks the row: call inside the transaction that then records the poll or the claim."""
        row = await conn.fetchrow(_POLL, digest)
        if row is None:
            return None
        return DevicePoll(
            client_id=row["client_id"],
            status=row["status"],
            expired=row["expired"],
            too_soon=row["too_soon"],
            user_id=row["user_id"],
            browser_session_id=row["browser_session_id"],
            scopes=[s for s in row["scopes"] if s],
            resources=list(row["resources"]),
            auth_time=row["auth_time"],
            amr=list(row["amr"]),
            acr=row["acr"],
            session_ended=row["session_ended"],
        )

    async def polled(self, conn: Connection, digest: bytes, *, slow_down: bool) -> None:
        await conn.execute(_POLLED, digest, slow_down)

    async def used(self, conn: Connection, digest: bytes) -> None:
        await conn.execute(_USED, digest)
