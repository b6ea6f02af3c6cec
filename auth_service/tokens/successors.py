"""The reuse grace's queries: a refresh token presented again soon after it rotated (asyncpg only).

The rotation (``families.py``) keeps, on the claimed row, its successor's digest and the successor
sealed; within the grace, a repeat by the same client gets that same successor again, under the
same checks and the same family lock as a rotation.
"""

from __future__ import annotations

import asyncpg
import msgspec

from auth_service.tokens.families import CURRENT_POWERS, LOGIN_COLUMNS, Rotated, SessionBounds, rotated_from

__all__ = ["Replayed", "SuccessorRepository"]

# A used token within the grace whose successor is unused: the same checks as a rotation (and the
# same family lock), and the sealed successor instead of a new one.
_REPLAY = f"""
WITH family AS (
    UPDATE refresh_families AS f SET last_used_at = now()
    FROM refresh_tokens AS t, refresh_tokens AS n, users AS u
    WHERE t.digest = $1 AND t.successor_sealed IS NOT NULL
      AND t.used_at > to_timestamp($3) - make_interval(secs => $4)
      AND n.digest = t.successor_digest AND n.used_at IS NULL AND n.expires_at > now()
      AND f.id = t.family_id AND f.revoked_at IS NULL AND f.expires_at > now() AND f.client_id = $2
      AND u.id = f.user_id AND u.status = 'active'
      AND string_to_array(f.scope, ' ') @> $5::text[]
      AND f.resources @> $6::text[] AND ($7::text[] IS NULL OR f.resources <@ $7::text[])
    RETURNING f.id AS family_id, f.scope, f.resources, u.id AS user_id, u.email::text AS email,
              {LOGIN_COLUMNS}, t.successor_sealed
)
SELECT c.family_id, c.scope, c.resources, c.user_id, c.email, c.auth_time, c.amr, c.acr,
       {CURRENT_POWERS}, c.successor_sealed
FROM family c
"""  # noqa: S608
_SUCCESSOR_UNUSED_WITHIN = """
SELECT EXISTS (
    SELECT 1 FROM refresh_tokens t JOIN refresh_tokens n ON n.digest = t.successor_digest
    WHERE t.digest = $1 AND t.successor_sealed IS NOT NULL AND n.used_at IS NULL
      AND t.used_at > to_timestamp($2) - make_interval(secs => $3)
)
"""


class Replayed(msgspec.Struct, frozen=True):
    """A used token presented again within the grace: the session as a rotation reads it, and the
    successor it was rotated into (sealed, as stored)."""

    rotated: Rotated
    successor_sealed: bytes


class SuccessorRepository:
    __slots__ = ()

    async def replay_successor(
        self,
        conn: asyncpg.Connection,
        *,
        presented: bytes,
        client_id: str,
        now: float,
        grace: int,
        bounds: SessionBounds,
    ) -> Replayed | None:
        """``presented`` used less than ``grace`` seconds before ``now``, its successor unused, and
        otherwise what ``rotate`` would accept: the session and the sealed successor."""
        row = await conn.fetchrow(
            _REPLAY,
            presented,
            client_id,
            now,
            grace,
            bounds.scopes,
            bounds.resources,
            bounds.allowed,
        )
        if row is None:
            return None
        values = dict(row)
        sealed: bytes = values.pop("successor_sealed")
        return Replayed(rotated=rotated_from(values), successor_sealed=sealed)

    async def successor_unused_within(
        self, conn: asyncpg.Connection, presented: bytes, *, now: float, grace: int
    ) -> bool:
        """Whether ``presented`` was used less than ``grace`` seconds before ``now`` and its
        successor not yet: presenting it again is a repeat, not a reuse."""
        within: bool = await conn.fetchval(_SUCCESSOR_UNUSED_WITHIN, presented, now, grace)
        return within
