"""Authorization codes (the ``authorization_codes`` table, asyncpg only): single use, short-lived.

Only the code's SHA-256 is stored (``random_secrets``: 256 random bits need no slow hash). The
authorization endpoint writes codes here; the token endpoint claims one (``redemption.py``: used
only for its own client, before its expiry and while its browser session has not ended, of two
concurrent uses exactly one wins) and, when a code is presented that cannot be claimed, inspects
it to say why. Time is the caller's clock, passed to the SQL that decides, so tests move it.
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

    async def inspect(self, conn: asyncpg.Connection, digest: bytes, now: float) -> PresentedCode | None:
        row = await conn.fetchrow(_INSPECT, digest, now)
        return None if row is None else PresentedCode(**dict(row))
