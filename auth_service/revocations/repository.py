"""The revocation outbox (migration 0004), in the caller's transaction (asyncpg only).

A row is written in the same transaction as the change that revokes (user disabled, session
revoked, ...): it exists if and only if that change committed. The publisher claims unpublished
rows ``FOR UPDATE SKIP LOCKED`` (so replicas never send the same row at once, nor wait on each
other), sends them on and marks them published in that transaction. Introspection asks the table
itself (``is_revoked``): PostgreSQL is the truth, the stream only its copy.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from shared.auth.revocation_events import MAX_LEEWAY, REVOCATION_MARGIN, Revocation, RevocationKind
from shared.db.pool import Connection

__all__ = ["ClaimedRevocation", "RevocationRepository", "TokenFacts"]

_RECORD_UNTIL = """
INSERT INTO revocations (kind, value, expires_at) VALUES ($1, $2, to_timestamp($3))
"""
_RECORD_FOR = """
INSERT INTO revocations (kind, value, expires_at)
SELECT $1, value, clock_timestamp() + make_interval(secs => $3) FROM unnest($2::text[]) AS value
"""
_CLAIM = """
SELECT id, kind, value, extract(epoch FROM revoked_at)::float8 AS at,
       ceil(extract(epoch FROM expires_at))::bigint AS exp
FROM revocations WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
"""
_MARK_PUBLISHED = "UPDATE revocations SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])"
# Rows a verifier must still hold (``Revocation.keep_until`` with the largest leeway allowed).
_LIVE = f"expires_at > now() - make_interval(secs => {MAX_LEEWAY + REVOCATION_MARGIN})"
_REPUBLISH = f"""
UPDATE revocations SET published_at = NULL
WHERE published_at IS NOT NULL AND {_LIVE} AND id <> ALL($1::bigint[])
"""  # noqa: S608
_REFRESH_OLD = f"""
UPDATE revocations SET published_at = NULL
WHERE published_at < to_timestamp($1) AND kind = ANY($2::text[]) AND {_LIVE}
"""  # noqa: S608
_IS_REVOKED = """
SELECT EXISTS (
    SELECT 1 FROM revocations
    WHERE (kind = 'jti' AND value = $1)
       OR (kind = 'sid' AND value = $2)
       OR (kind = 'kid' AND value = $3)
       OR (kind = 'sub' AND value = $4 AND revoked_at >= to_timestamp($7))
       OR (kind = 'client' AND value = $5 AND revoked_at >= to_timestamp($7))
       OR (kind = 'role' AND value = ANY($6::text[]) AND revoked_at >= to_timestamp($7))
)
"""


class ClaimedRevocation(msgspec.Struct, frozen=True):
    """An unpublished row, locked by the claiming transaction until it commits or rolls back."""

    id: int
    revocation: Revocation


class TokenFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a revocation can name about one access token (its claims and its header's ``kid``)."""

    jti: str
    sid: str | None
    kid: str | None
    sub: str
    client_id: str
    roles: Sequence[str]
    iat: int


class RevocationRepository:
    __slots__ = ()

    async def record_until(self, conn: Connection, kind: RevocationKind, value: str, exp: int) -> None:
        """One revocation whose tokens all expire by ``exp`` (Unix seconds): a single access token."""
        await conn.execute(_RECORD_UNTIL, kind, value, exp)

    async def record_for(
        self, conn: Connection, kind: RevocationKind, values: Sequence[str], ttl: int
    ) -> None:
        """Revocations of tokens issued up to now, which all expire within ``ttl`` seconds."""
        if values:
            await conn.execute(_RECORD_FOR, kind, list(values), ttl)

    async def claim(self, conn: Connection, limit: int) -> list[ClaimedRevocation]:
        """Oldest unpublished rows no other transaction holds; call inside a transaction."""
        rows = await conn.fetch(_CLAIM, limit)
        return [
            ClaimedRevocation(
                id=r["id"], revocation=Revocation(kind=r["kind"], value=r["value"], at=r["at"], exp=r["exp"])
            )
            for r in rows
        ]

    async def mark_published(self, conn: Connection, ids: Sequence[int]) -> None:
        await conn.execute(_MARK_PUBLISHED, list(ids))

    async def republish(self, conn: Connection, sent_since: Sequence[int] = ()) -> int:
        """Mark every row a verifier must still hold unpublished again (the stream was lost), but
        ``sent_since``: those went to the new stream."""
        status: str = await conn.execute(_REPUBLISH, list(sent_since))
        return int(status.rsplit(" ", 1)[-1])

    async def refresh_before_trim(self, conn: Connection, horizon: float, kinds: Sequence[str]) -> int:
        """Mark still-live rows of ``kinds`` published before ``horizon`` unpublished, so they are
        sent again before the stream is trimmed to ``horizon``: how many."""
        status: str = await conn.execute(_REFRESH_OLD, horizon, list(kinds))
        return int(status.rsplit(" ", 1)[-1])

    async def is_revoked(self, conn: Connection, token: TokenFacts) -> bool:
        """The contract's rules (``shared/auth/revocation_events.py``): ``jti``, ``sid`` and ``kid``
        whatever the time, ``sub``, ``client`` and ``role`` for tokens issued at or before them."""
        revoked: bool = await conn.fetchval(
            _IS_REVOKED,
            token.jti,
            token.sid,
            token.kid,
            token.sub,
            token.client_id,
            list(token.roles),
            token.iat,
        )
        return revoked
