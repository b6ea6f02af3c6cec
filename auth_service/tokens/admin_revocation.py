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

from auth_service.audit.service import Actor
from auth_service.powers.service import ADMIN_CLIENTS, ADMIN_USERS
from auth_service.tokens.revocation import TokenRevocation
from shared.auth.claims import AccessClaims
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


def _area_of(claims: AccessClaims) -> str:
    """A client_credentials token is the client's own: its subject is the client itself."""
    return ADMIN_CLIENTS if claims.sub == claims.client_id else ADMIN_USERS


class AdminTokenRevocation:
    """The admin areas' rules over the one revocation mechanism (``TokenRevocation``)."""

    __slots__ = ("_revocation",)

    def __init__(self, revocation: TokenRevocation) -> None:
        self._revocation = revocation

    async def revoke(self, token: str, held: Set[str], actor: Actor) -> None:
        """``held``: the scopes of the caller's own token."""
        if not held & {ADMIN_USERS, ADMIN_CLIENTS}:
            raise InsufficientScope(ADMIN_USERS, ADMIN_CLIENTS)
        await self._revocation.revoke_token(
            token,
            actor,
            # A client_credentials token is the client's own: its subject is the client itself.
            access=lambda claims: _require(
                held, ADMIN_CLIENTS if claims.sub == claims.client_id else ADMIN_USERS
            ),
            refresh=lambda _: _require(held, ADMIN_USERS),
            reason="revoked_by_admin",
        )
