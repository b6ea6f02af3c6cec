"""The authorization code grant (RFC 6749 section 4.1.3) with PKCE (RFC 7636 section 4.6).

Every client proves the code is its own: ``redirect_uri`` identical to the one the code was issued
for, and the ``code_verifier`` whose S256 is the code's challenge (compared in constant time;
there is no ``plain``). One statement claims the code for this client only (``redemption.py``): a code
of another client is left unused. A claimed code whose redirect URI or verifier does not match
stays used, so nobody may try a second verifier on it. A second use of a code means it leaked:
``invalid_grant``, and the session the first use started is revoked with its access tokens
(RFC 6749 section 4.1.2), audited. The exchange reads the code with its person, signs, then claims
the code and writes the family, its first token and the audit event in one statement
(``redemption.py``), so the code is used exactly when its tokens exist; an exchange that loses the
claim to a concurrent one is a second use. ``resource`` may narrow the audience to some of the
code's resources (RFC 8707 section 2.2).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.repository import ClientRecord
from auth_service.random_secrets import digest
from auth_service.tokens.audience import invalid_target, parse_resources
from auth_service.tokens.codes import ClaimedCode, CodeRepository
from auth_service.tokens.errors import OAuthError, invalid_grant, invalid_request
from auth_service.tokens.fresh_codes import FreshCodes
from auth_service.tokens.login_tokens import LoginGrant, LoginTokens, login_event
from auth_service.tokens.redemption import CodeRedemption
from auth_service.tokens.responses import TokenResponse
from auth_service.tokens.sessions import SessionService
from shared.db.pool import Connection, PostgresPool

__all__ = ["AuthorizationCodeGrant", "s256_challenge"]

_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
"""RFC 7636 section 4.1: 43 to 128 unreserved characters."""
_INVALID_CODE = "The authorization code is invalid, expired or already used."


def s256_challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(ASCII(code_verifier)))`` without padding (RFC 7636 section 4.2)."""
    hashed = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode("ascii")


def _mismatch(
    code: ClaimedCode, redirect_uri: str, verifier: str, resources: list[str] | None
) -> OAuthError | None:
    """Why a claimed code does not grant this request, if it does not."""
    if redirect_uri != code.redirect_uri:
        return invalid_grant("The redirect_uri differs from the one the code was issued for.")
    if not hmac.compare_digest(s256_challenge(verifier), code.code_challenge):
        return invalid_grant("The code_verifier does not match the code_challenge.")
    if resources is not None and not set(resources) <= set(code.resources):
        return invalid_target("A resource was not part of the authorization.")
    return None


class AuthorizationCodeGrant:
    __slots__ = ("_audit", "_clock", "_codes", "_fresh", "_logins", "_pool", "_redemption", "_sessions")

    def __init__(
        self,
        pool: PostgresPool,
        logins: LoginTokens,
        sessions: SessionService,
        audit: AuditTrail,
        fresh: FreshCodes,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` decides a code's expiry (tests move it instead of sleeping); ``fresh`` holds the
        codes this process just issued (the claim decides, as for a code read back)."""
        self._pool = pool
        self._fresh = fresh
        self._logins = logins
        self._sessions = sessions
        self._audit = audit
        self._clock = clock
        self._codes = CodeRepository()
        self._redemption = CodeRedemption()

    async def __call__(self, client: ClientRecord, form: dict[str, str], actor: Actor) -> TokenResponse:
        code, redirect_uri, verifier = form.get("code"), form.get("redirect_uri"), form.get("code_verifier")
        if code is None or redirect_uri is None:
            raise invalid_request("The code and redirect_uri parameters are required.")
        if verifier is None:
            raise invalid_request("The code_verifier parameter is required (PKCE, RFC 7636).")
        if not _VERIFIER.match(verifier):
            raise invalid_request("The code_verifier must be 43 to 128 unreserved characters.")
        resources = parse_resources(form.get("resource"))
        code_digest, now = digest(code), self._clock()
        async with self._pool.acquire() as conn:
            presented = self._fresh.take(code_digest, client.client_id) or await self._redemption.present(
                conn, code_digest, client.client_id, now
            )
            if presented is None:
                raise await self._refused(conn, client, code_digest, now, actor)
            refusal = _mismatch(presented.code, redirect_uri, verifier, resources)
            if refusal is not None:
                await self._redemption.spend(conn, code_digest, client.client_id, now)
                raise refusal
            minted = self._logins.mint(client, _login_grant(presented.code, resources), presented.user, actor)
            event = msgspec.json.encode(login_event(minted.family)).decode()
            if await self._redemption.redeem(
                conn, code_digest, now, minted.family, actor=actor, details=event
            ):
                return minted.response
            raise await self._refused(conn, client, code_digest, now, actor)  # claimed meanwhile

    async def _refused(
        self, conn: Connection, client: ClientRecord, code_digest: bytes, now: float, actor: Actor
    ) -> OAuthError:
        """Why a code was not claimed; a second use revokes what the first one issued."""
        presented = await self._codes.inspect(conn, code_digest, now)
        if presented is None or presented.client_id != client.client_id:
            return invalid_grant(_INVALID_CODE)
        if presented.used_at is not None and presented.family_id is not None:
            async with conn.transaction():
                await self._sessions.revoke(conn, presented.family_id, "code_reuse")
                await self._audit.record(
                    "code.reuse",
                    actor,
                    outcome="failure",
                    target_type="session",
                    target_id=str(presented.family_id),
                    details={"user": str(presented.user_id)},
                    conn=conn,
                )
            return invalid_grant("The authorization code was already used; its tokens are revoked.")
        if presented.used_at is None and not presented.expired:
            return invalid_grant("The browser session of this code has ended.")
        return invalid_grant(_INVALID_CODE)


def _login_grant(code: ClaimedCode, resources: list[str] | None) -> LoginGrant:
    return LoginGrant(
        user_id=code.user_id,
        scopes=code.scope.split(),
        resources=code.resources if resources is None else resources,
        browser_session_id=code.browser_session_id,
        auth_time=code.auth_time,
        amr=code.amr,
        acr=code.acr,
        nonce=code.nonce,
    )
