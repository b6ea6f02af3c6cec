"""Token introspection (RFC 7662), for confidential clients only, each seeing only its own tokens.

An access token is active while its signature and claims verify (unexpired: ``exp + leeway > now``,
the leeway of this service's verifier), it is not revoked, and the caller may see it: it was issued
to the caller, or the caller is the resource server it is meant for (``resource_server`` in its
``aud``, see ``presented.meant_for``). A refresh
token is active while its family is live and only for the client it was issued to, so nobody can
test a stolen refresh token here (nor does asking touch the family: no reuse detection trips).
Anything else is ``{"active": false}``, never an error, so the answer does not tell a token that
exists from one that does not. ``token_type`` is ``Bearer`` for access tokens and absent for
refresh tokens (RFC 7662 section 2.2 means an RFC 6749 access-token type). Introspections are
counted per authenticated client (``AUTH_INTROSPECTION_LIMIT``).

Revocation is read from PostgreSQL, the truth (``RevocationRepository.is_revoked``: its ``jti``,
``sid``, signing key, or its subject, client or one of its roles revoked after it was issued), not
from the stream verifiers follow: the answer is right the moment a revocation commits, and a
revoked token stays inactive for as long as it would otherwise verify, leeway included.
"""

from __future__ import annotations

from typing import Any

from auth_service.clients.repository import ClientRecord
from auth_service.random_secrets import digest
from auth_service.revocations.repository import RevocationRepository, TokenFacts
from auth_service.throttling.errors import ThrottleRefusal
from auth_service.throttling.window import SlidingWindowLimiter
from auth_service.tokens.errors import refused
from auth_service.tokens.families import FamilyRepository, PresentedToken
from auth_service.tokens.presented import PresentedTokens, key_id, looks_like_jwt, meant_for
from shared.auth.claims import AccessClaims
from shared.db.pool import PostgresPool

__all__ = ["INACTIVE", "TokenIntrospection", "token_facts"]

INACTIVE: dict[str, Any] = {"active": False}


def token_facts(token: str, claims: AccessClaims) -> TokenFacts:
    return TokenFacts(
        jti=claims.jti,
        sid=claims.sid,
        kid=key_id(token),
        sub=claims.sub,
        client_id=claims.client_id,
        roles=claims.roles,
        iat=claims.iat,
    )


def _access_answer(claims: AccessClaims) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer",
        "scope": claims.scope,
        "client_id": claims.client_id,
        "sub": claims.sub,
        "aud": claims.aud,
        "iss": claims.iss,
        "exp": claims.exp,
        "iat": claims.iat,
        "jti": claims.jti,
    }
    if claims.roles:
        answer["roles"] = claims.roles
    if claims.nbf is not None:
        answer["nbf"] = claims.nbf
    if claims.email is not None:
        answer["username"] = claims.email
    if claims.auth_time is not None:  # the login behind it, for a resource server's step-up (RFC 9470)
        answer.update(auth_time=claims.auth_time, amr=claims.amr, acr=claims.acr)
    return answer


def _refresh_answer(presented: PresentedToken) -> dict[str, Any]:
    return {
        "active": True,
        "scope": presented.scope,
        "client_id": presented.client_id,
        "sub": str(presented.user_id),
        "username": presented.email,
        "exp": presented.expires_at,
        "iat": presented.issued_at,
    }


class TokenIntrospection:
    __slots__ = ("_families", "_limiter", "_pool", "_presented", "_revocations")

    def __init__(
        self,
        pool: PostgresPool,
        presented: PresentedTokens,
        *,
        limiter: SlidingWindowLimiter | None = None,
    ) -> None:
        """``limiter`` counts introspections per authenticated client; a client is known only after
        it authenticated, so nobody can spend another client's budget by naming it."""
        self._pool = pool
        self._presented = presented
        self._limiter = limiter
        self._families = FamilyRepository()
        self._revocations = RevocationRepository()

    async def introspect(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        client, token = await self._presented.client_and_token(form, authorization, confidential_only=True)
        if self._limiter is not None:
            try:
                await self._limiter.hit(client.client_id)
            except ThrottleRefusal as refusal:
                raise refused(refusal) from None
        if looks_like_jwt(token):
            return await self._access(token, client)
        async with self._pool.acquire() as conn:
            presented = await self._families.inspect(conn, digest(token))
        if presented is None or not presented.active or presented.client_id != client.client_id:
            return INACTIVE
        return _refresh_answer(presented)

    async def _access(self, token: str, client: ClientRecord) -> dict[str, Any]:
        claims = await self._presented.access_claims(token)
        if claims is None or not meant_for(claims, client):
            return INACTIVE
        async with self._pool.acquire() as conn:
            revoked = await self._revocations.is_revoked(conn, token_facts(token, claims))
        return INACTIVE if revoked else _access_answer(claims)
