"""Access tokens revoked before they expire: their ``jti`` on the shared Redis deny-list.

Revoking a session (refresh family) also denies the access tokens issued from it that have not
expired yet — the family's rows remember each one's ``jti`` and ``exp``. A Redis failure here is
logged and does not undo the revocation in PostgreSQL: those access tokens then live out their
short lifetime, which the log line says. An explicit revocation or a deny-list lookup that Redis
cannot answer raises ``DenyListUnavailable`` instead: it must not report an answer it did not get.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from redis.exceptions import RedisError

from auth_service.tokens.families import RevokedAccess
from shared.auth.deny_list import DenyList
from shared.errors import DomainError

__all__ = ["AccessRevocations", "DenyListUnavailable"]

log = logging.getLogger(__name__)


class DenyListUnavailable(DomainError):
    """Redis did not answer a deny-list command that must not be skipped."""

    status = 503
    slug = "deny-list-unavailable"
    detail = "The revocation list cannot be reached right now; retry shortly."


class AccessRevocations:
    __slots__ = ("_deny_list",)

    def __init__(self, deny_list: DenyList) -> None:
        self._deny_list = deny_list

    async def deny(self, revoked: Iterable[RevokedAccess]) -> None:
        for entry in revoked:
            try:
                await self._deny_list.add(entry.jti, entry.exp)
            except RedisError as exc:
                log.warning(
                    "access token %s not deny-listed (Redis: %s); it stays valid until it expires",
                    entry.jti,
                    type(exc).__name__,
                )

    async def deny_one(self, jti: str, exp: int) -> None:
        """Raises ``DenyListUnavailable``: an explicit revocation must not report success it did not have."""
        try:
            await self._deny_list.add(jti, exp)
        except RedisError:
            raise DenyListUnavailable(headers={"Retry-After": "2"}) from None

    async def is_denied(self, jti: str) -> bool:
        """Raises ``DenyListUnavailable`` when Redis cannot say."""
        try:
            return await self._deny_list.contains(jti)
        except RedisError:
            raise DenyListUnavailable(headers={"Retry-After": "2"}) from None
