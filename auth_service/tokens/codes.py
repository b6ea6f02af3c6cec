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

from auth_service.browser_sessions.repository import LIVE_SESSION, BrowserSession
from auth_service.factors.repository import Assurance
from auth_service.users.repository import USER_COLUMNS, UserRecord

__all__ = ["ClaimedCode", "CodeDraft", "CodeRepository", "NewCode", "PresentedCode", "SessionCode"]

_CODE_COLUMNS = """digest, client_id, user_id, browser_session_id, redirect_uri, scope, resources,
code_challenge, nonce, auth_time, amr, acr, expires_at"""
# A code answering a stored authorization request deletes the request in the same statement
# ($14; NULL for a request answered at once, never stored): of two answers, only one makes a code.
# It reads the person back, as the exchange will need them (``fresh_codes.py``).
_CREATE = f"""
WITH taken AS (
    DELETE FROM authorization_requests WHERE id = $14::uuid AND expires_at > now() RETURNING id
), made AS (
    INSERT INTO authorization_codes ({_CODE_COLUMNS})
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, to_timestamp($10), $11, $12, now() + make_interval(secs => $13)
    WHERE $14::uuid IS NULL OR EXISTS (SELECT 1 FROM taken)
    RETURNING user_id
)
SELECT {USER_COLUMNS} FROM made JOIN users u ON u.id = made.user_id
"""  # noqa: S608
# The single sign-on shortcut: the browser's session looked up (as ``BrowserSessionRepository.current``)
# and, if it is live, a code written for it, in one statement; the caller still decides whether the
# code may be given (``AuthorizationService``) and discards it otherwise. Session columns are renamed
# where the person's (``USER_COLUMNS``) share their names.
_CREATE_IN_SESSION = f"""
WITH {LIVE_SESSION}, made AS (
    INSERT INTO authorization_codes ({_CODE_COLUMNS})
    SELECT $3, $4, live.user_id, live.id, $5, $6, $7, $8, $9, to_timestamp(live.auth_time), live.amr,
           live.acr, now() + make_interval(secs => $10)
    FROM live
    RETURNING 1
)
SELECT live.id AS session_id, live.user_id, live.auth_time, live.amr, live.acr,
       live.created_at AS session_created_at, live.last_seen_at, live.expires_at, live.source_ip,
       live.user_agent, f.totp, f.passkey, f.required, {USER_COLUMNS}
FROM live JOIN second_factor_state f ON f.user_id = live.user_id JOIN users u ON u.id = live.user_id
"""  # noqa: S608
_DISCARD = "DELETE FROM authorization_codes WHERE digest = $1 AND used_at IS NULL"
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


class CodeDraft(msgspec.Struct, frozen=True):
    """What a code binds before the browser session is known (the rest of ``NewCode`` is the session's)."""

    client_id: str
    redirect_uri: str
    scopes: list[str]
    resources: list[str]
    code_challenge: str
    nonce: str | None

    def for_session(self, session: BrowserSession) -> NewCode:
        return NewCode(
            client_id=self.client_id, user_id=session.user_id, browser_session_id=session.id,
            redirect_uri=self.redirect_uri, scopes=self.scopes, resources=self.resources,
            code_challenge=self.code_challenge, nonce=self.nonce, auth_time=session.auth_time,
            amr=session.amr, acr=session.acr,
        )  # fmt: skip


class SessionCode(msgspec.Struct, frozen=True):
    """``create_in_session``'s answer: the live session, and the code written for it with its person."""

    session: BrowserSession
    code: NewCode
    person: UserRecord


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
    ) -> UserRecord | None:
        """Store a code living ``ttl`` seconds (``settings.login.authorization_code_ttl``), taking
        the stored authorization request ``taking`` with it; its person as they are now, or ``None``
        (nothing written) when that request is gone or expired."""
        row = await conn.fetchrow(
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
        return None if row is None else UserRecord(**dict(row))

    async def create_in_session(
        self,
        conn: asyncpg.Connection,
        session_digest: bytes,
        idle_ttl: int,
        digest: bytes,
        draft: CodeDraft,
        ttl: int,
    ) -> SessionCode | None:
        """The live session ``session_digest`` opens with a code for it; ``None`` (nothing written)
        without one."""
        row = await conn.fetchrow(
            _CREATE_IN_SESSION, session_digest, idle_ttl, digest, draft.client_id, draft.redirect_uri,
            " ".join(draft.scopes), draft.resources, draft.code_challenge, draft.nonce, ttl,
        )  # fmt: skip
        if row is None:
            return None
        values = dict(row)
        assurance = Assurance(values.pop("totp"), values.pop("passkey"), values.pop("required"))
        session = BrowserSession(
            id=values.pop("session_id"), user_id=values.pop("user_id"), auth_time=values.pop("auth_time"),
            amr=values.pop("amr"), acr=values.pop("acr"), created_at=values.pop("session_created_at"),
            last_seen_at=values.pop("last_seen_at"), expires_at=values.pop("expires_at"),
            source_ip=values.pop("source_ip"), user_agent=values.pop("user_agent"), assurance=assurance,
        )  # fmt: skip
        return SessionCode(session, draft.for_session(session), UserRecord(**values))

    async def discard(self, conn: asyncpg.Connection, digest: bytes) -> None:
        """Delete a code written ahead that is not to be given (its secret never left the process)."""
        await conn.execute(_DISCARD, digest)

    async def inspect(self, conn: asyncpg.Connection, digest: bytes, now: float) -> PresentedCode | None:
        row = await conn.fetchrow(_INSPECT, digest, now)
        return None if row is None else PresentedCode(**dict(row))
