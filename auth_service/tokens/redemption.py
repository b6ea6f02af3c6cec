"""An authorization code exchanged for tokens in one or two statements (asyncpg only).

The exchange is the hot half of every single sign-on, so its database work is at most two round
trips, neither in an explicit transaction; one when the code was issued by this very process
(``fresh_codes.py`` holds what ``present`` would read). ``present`` reads the code with its
person (no lock: the tokens are signed from what it returns), and ``redeem`` is one statement
that claims the code and, only if it did, starts the refresh-token family with its first token,
records the family on the code and writes the audit event. A statement is atomic on its own, so
the code is used if and only if its family exists; of two concurrent exchanges exactly one claims
it (the other's tokens were signed but are never sent, and its caller treats the loss as a second
use). The claim repeats every condition of the read (unused, unexpired, browser session live,
account active): whatever changed between the two is decided by the claim.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from auth_service.audit.service import Actor
from auth_service.tokens.access import LoginAssurance
from auth_service.tokens.codes import ClaimedCode
from auth_service.users.repository import USER_COLUMNS, UserRecord

__all__ = ["CodeRedemption", "NewFamily", "PresentedLogin"]

_CLAIMABLE = """
c.digest = $1 AND c.client_id = $2 AND c.used_at IS NULL AND c.expires_at > to_timestamp($3)
  AND (c.browser_session_id IS NULL OR EXISTS (
        SELECT 1 FROM browser_sessions s WHERE s.id = c.browser_session_id AND s.ended_at IS NULL))
"""
_PRESENT = f"""
SELECT {USER_COLUMNS}, c.user_id, c.browser_session_id, c.redirect_uri, c.scope, c.resources,
       c.code_challenge, c.nonce, floor(extract(epoch FROM c.auth_time))::bigint AS auth_time, c.amr, c.acr
FROM authorization_codes c JOIN users u ON u.id = c.user_id
WHERE {_CLAIMABLE}
"""  # noqa: S608
_SPEND = f"UPDATE authorization_codes c SET used_at = to_timestamp($3) WHERE {_CLAIMABLE}"  # noqa: S608
_REDEEM = f"""
WITH claimed AS (
    UPDATE authorization_codes c SET used_at = to_timestamp($3), family_id = $4
    WHERE {_CLAIMABLE}
      AND EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id AND u.status = 'active')
    RETURNING c.user_id
), family AS (
    INSERT INTO refresh_families (id, user_id, client_id, scope, resources, expires_at, source_ip,
                                  browser_session_id, auth_time, amr, acr)
    SELECT $4, user_id, $2, $5, $6, now() + make_interval(secs => $7), $8::inet, $9,
           to_timestamp($10), $11, $12
    FROM claimed
    RETURNING id, user_id, expires_at
), first_token AS (
    INSERT INTO refresh_tokens (digest, family_id, expires_at, access_jti, access_expires_at)
    SELECT $13, id, least(now() + make_interval(secs => $14), expires_at), $15, to_timestamp($16)
    FROM family
    RETURNING family_id
), event AS (
    INSERT INTO audit_events (action, outcome, actor, target_type, target_id, source_ip, details)
    SELECT 'login.tokens', 'success', $17, 'user', f.user_id::text, $8::inet, $18::jsonb
    FROM family f
)
SELECT count(*) FROM first_token
"""  # noqa: S608
_USER_FIELDS = frozenset(UserRecord.__struct_fields__)


class NewFamily(msgspec.Struct, frozen=True, kw_only=True):
    """The refresh-token family a login starts, with its first token (``FamilyRepository.create``'s
    arguments, and ``redeem``'s)."""

    family_id: UUID
    user_id: UUID
    client_id: str
    scope: str
    resources: list[str]
    family_ttl: int
    source_ip: str | None
    token_digest: bytes
    token_ttl: int
    access_jti: str
    access_exp: int
    login: LoginAssurance
    browser_session_id: UUID | None


class PresentedLogin(msgspec.Struct, frozen=True):
    """A code this client may still claim, and the person it is for as they are now."""

    code: ClaimedCode
    user: UserRecord


class CodeRedemption:
    __slots__ = ()

    async def present(
        self, conn: asyncpg.Connection, digest: bytes, client_id: str, now: float
    ) -> PresentedLogin | None:
        """The code if ``client_id`` could claim it at ``now`` (Unix time); ``None`` otherwise."""
        row = await conn.fetchrow(_PRESENT, digest, client_id, now)
        if row is None:
            return None
        values = dict(row)
        user = {name: values.pop(name) for name in _USER_FIELDS}
        return PresentedLogin(ClaimedCode(**values), UserRecord(**user))

    async def spend(self, conn: asyncpg.Connection, digest: bytes, client_id: str, now: float) -> None:
        """Use the code up without tokens (a wrong verifier: nobody may try a second one)."""
        await conn.execute(_SPEND, digest, client_id, now)

    async def redeem(
        self,
        conn: asyncpg.Connection,
        digest: bytes,
        now: float,
        family: NewFamily,
        *,
        actor: Actor,
        details: str,
    ) -> bool:
        """Claim the code and start ``family`` in one statement; ``False`` (nothing written) when
        the code could no longer be claimed. ``details``: the audit event's JSON (``actor`` is the
        event's, as ``AuditTrail.record`` writes it)."""
        count: int = await conn.fetchval(
            _REDEEM,
            *(digest, family.client_id, now, family.family_id, family.scope, family.resources),
            *(family.family_ttl, family.source_ip, family.browser_session_id, family.login.auth_time),
            *(family.login.amr, family.login.acr, family.token_digest, family.token_ttl, family.access_jti),
            *(family.access_exp, actor.id, details),
        )
        return count == 1
