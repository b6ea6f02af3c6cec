"""Authorization codes (the ``authorization_codes`` table, asyncpg only): single use, short-lived.

Only the code's SHA-256 is stored (``random_secrets``: 256 random bits need no slow hash). A code
is claimed by one statement that marks it used only for its own client, before its expiry and
while its browser session has not ended: of two concurrent uses exactly one wins, and a code
presented by another client is left as it was. Time is the caller's clock (the grant's), passed
to the SQL that decides, so tests move it instead of sleeping. The claim records the family its
tokens started (``record_family``) in the same transaction, so a second use can revoke it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

__all__ = ["ClaimedCode", "CodeRepository", "NewCode", "PresentedCode"]

# A code answering a stored authorization request deletes the request in the same statement
# ($14; NULL for a request answered at once, never stored): of two answers, only one makes a code.
_CREATE = """
WITH taken AS (
    DELETE FROM authorization_requests WHERE id = $14::uuid AND expires_at > now() RETURNING id
)
INSERT INTO authorization_codes (digest, client_id, user_id, browser_session_id, redirect_uri, scope,
                                 resources, code_challenge, nonce, auth_time, amr, acr, expires_at)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, to_timestamp($10), $11, $12, now() + make_interval(secs => $13)
WHERE $14::uuid IS NULL OR EXISTS (SELECT 1 FROM taken)
RETURNING true
"""
_CLAIM = """
UPDATE authorization_codes AS c SET used_at = to_timestamp($3)
WHERE c.digest = $1 AND c.client_id = $2 AND c.used_at IS NULL AND c.expires_at > to_timestamp($3)
  AND (c.browser_session_id IS NULL OR EXISTS (
        SELECT 1 FROM browser_sessions s WHERE s.id = c.browser_session_id AND s.ended_at IS NULL))
RETURNING c.user_id, c.browser_session_id, c.redirect_uri, c.scope, c.resources, c.code_challenge,
          c.nonce, floor(extract(epoch FROM c.auth_time))::bigint AS auth_time, c.amr, c.acr
"""
_RECORD_FAMILY = "UPDATE authorization_codes SET family_id = $2 WHERE digest = $1"
_INSPECT = """
SELECT c.client_id, c.user_id, c.used_at, c.expires_at, c.family_id,
       c.expires_at <= to_timestamp($2) AS expired
FROM authorization_codes c WHERE c.digest = $1
"""


class NewCode(msgspec.Struct, frozen=True):
    """What the authorization endpoint decided, bound to the code (RFC 6749 section 4.1.2)."""

    client_id: str
    user_id: UUID
    browser_session_id: UUID | None
    redirect_uri: str
    scopes: list[str]
    """The grant: identity scopes asked + resource scopes allowed to both client and user."""
    resources: list[str]
    """The audience resolved at the authorization endpoint (``Audience.resources``)."""
    code_challenge: str
    """The PKCE S256 challenge (RFC 7636: 43 base64url characters)."""
    nonce: str | None
    auth_time: int
    """Unix seconds of the login the browser session records."""
    amr: list[str]
    acr: str


class ClaimedCode(msgspec.Struct, frozen=True):
    """A code this client just claimed: what the token request must match and what it grants."""

    user_id: UUID
    browser_session_id: UUID | None
    redirect_uri: str
    scope: str
    resources: list[str]
    code_challenge: str
    nonce: str | None
    auth_time: int
    amr: list[str]
    acr: str


class PresentedCode(msgspec.Struct, frozen=True):
    """A code that was not claimed, so the grant can say why (and revoke on a second use)."""

    client_id: str
    user_id: UUID
    used_at: datetime | None
    expires_at: datetime
    family_id: UUID | None
    expired: bool


class CodeRepository:
    __slots__ = ()

    async def create(
        self, conn: asyncpg.Connection, digest: bytes, code: NewCode, ttl: int, *, taking: UUID | None = None
    ) -> bool:
        """Store a code living ``ttl`` seconds (``settings.login.authorization_code_ttl``), taking
        the stored authorization request ``taking`` with it; ``False`` (nothing written) when that
        request is gone or expired."""
        created = await conn.fetchval(
            _CREATE,
            digest,
            code.client_id,
            code.user_id,
            code.browser_session_id,
            code.redirect_uri,
            " ".join(code.scopes),
            code.resources,
            code.code_challenge,
            code.nonce,
            code.auth_time,
            code.amr,
            code.acr,
            ttl,
            taking,
        )
        return created is not None

    async def claim(
        self, conn: asyncpg.Connection, digest: bytes, client_id: str, now: float
    ) -> ClaimedCode | None:
        """Mark the code used at ``now`` (Unix time) if it is ``client_id``'s, unused, unexpired and
        its browser session live; ``None`` otherwise (nothing changed)."""
        row = await conn.fetchrow(_CLAIM, digest, client_id, now)
        return None if row is None else ClaimedCode(**dict(row))

    async def record_family(self, conn: asyncpg.Connection, digest: bytes, family_id: UUID) -> None:
        await conn.execute(_RECORD_FAMILY, digest, family_id)

    async def inspect(self, conn: asyncpg.Connection, digest: bytes, now: float) -> PresentedCode | None:
        row = await conn.fetchrow(_INSPECT, digest, now)
        return None if row is None else PresentedCode(**dict(row))
