"""Revoked access tokens (RFC 7009), by ``jti``, in Redis until the token would have expired anyway.

The auth service writes; resource servers that opt in read the same keys. The key format is part
of the contract between them: ``{prefix}revoked:{jti}``.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

__all__ = ["DenyList"]


class DenyList:
    __slots__ = ("_prefix", "_redis")

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    def _key(self, jti: str) -> str:
        return f"{self._prefix}revoked:{jti}"

    async def add(self, jti: str, expires_at: int) -> None:
        """Deny ``jti`` until ``expires_at`` (epoch seconds); an already expired token needs no entry."""
        if expires_at > time.time():
            await self._redis.set(self._key(jti), b"1", exat=expires_at)

    async def contains(self, jti: str) -> bool:
        return bool(await self._redis.exists(self._key(jti)))
