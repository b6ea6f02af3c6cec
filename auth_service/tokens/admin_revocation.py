"""An admin revokes any token this issuer gave out: ``POST /api/1/admin/tokens/revoke``.

RFC 7009 lets a client revoke only its own tokens, so a ``client_credentials`` token could be
revoked by nobody but the client that holds it. Here the power follows the admin areas: a user's
token (access or refresh) needs ``admin:users``, the area that already ends the user's sessions;
a client's own token needs ``admin:clients``, the area that could delete the client. The caller's
token must carry one of them to ask at all, so an unknown, expired or foreign token (a success, as
RFC 7009 answers it) tells nobody outside those areas anything. Audited as ``token.revoke`` by the
admin, in the transaction that records the revocation.
"""

from __future__ import annotations

from collections.abc import Set

from auth_service.audit.service import Actor, AuditTrail
from auth_service.powers.service import ADMIN_CLIENTS, ADMIN_USERS
from auth_service.revocations.service import Revoker
from auth_service.tokens.presented import PresentedTokens, looks_like_jwt
from auth_service.tokens.revocation import revoke_access_token, revoke_refresh_token
from auth_service.tokens.sessions import SessionService
from shared.db.pool import PostgresPool
from shared.errors import DomainError

__all__ = ["AdminTokenRevocation", "InsufficientScope"]


class InsufficientScope(DomainError):
    """The caller's token lacks the admin scope this token's revocation needs (RFC 6750 §3.1)."""

    status = 403
    slug = "insufficient-scope"

    def __init__(self, *scopes: str) -> None:
        super().__init__(f"This needs the scope {' or '.join(scopes)}.")
        self.scope = scopes[0] if len(scopes) == 1 else None
        """For the challenge's ``scope``: only when one scope would do."""


def _require(held: Set[str], scope: str) -> None:
    if scope not in held:
        raise InsufficientScope(scope)


class AdminTokenRevocation:
    __slots__ = ("_audit", "_pool", "_presented", "_revoker", "_sessions")

    def __init__(
        self,
        pool: PostgresPool,
        presented: PresentedTokens,
        revoker: Revoker,
        sessions: SessionService,
        audit: AuditTrail,
    ) -> None:
        self._pool = pool
        self._presented = presented
        self._revoker = revoker
        self._sessions = sessions
        self._audit = audit

    async def revoke(self, token: str, held: Set[str], actor: Actor) -> None:
        """``held``: the scopes of the caller's own token."""
        if not held & {ADMIN_USERS, ADMIN_CLIENTS}:
            raise InsufficientScope(ADMIN_USERS, ADMIN_CLIENTS)
        if looks_like_jwt(token):
            await self._revoke_access(token, held, actor)
        else:
            await self._revoke_refresh(token, held, actor)

    async def _revoke_access(self, token: str, held: Set[str], actor: Actor) -> None:
        claims = await self._presented.access_claims(token)
        if claims is None:
            return
        # A client_credentials token is the client's own: its subject is the client itself.
        _require(held, ADMIN_CLIENTS if claims.sub == claims.client_id else ADMIN_USERS)
        await revoke_access_token(self._pool, self._revoker, self._audit, claims, actor)

    async def _revoke_refresh(self, token: str, held: Set[str], actor: Actor) -> None:
        await revoke_refresh_token(
            self._pool,
            self._sessions,
            self._audit,
            token,
            actor,
            permitted=lambda _: _require(held, ADMIN_USERS),
            reason="revoked_by_admin",
        )
