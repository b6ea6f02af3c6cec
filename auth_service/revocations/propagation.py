"""How revocations travel for one replica: out through its publisher, back in through its feed.

The publisher pushes what the ``Revoker`` recorded (in PostgreSQL) to the Redis stream; the feed
follows that stream into memory, as every resource server does, for this service's own bearer
verifier. A ``kid`` entry (a key revoked, here or on another replica) makes the keyring drop the
key and reload, and the keyring then tells this service's verifiers, which forget the key and the
tokens they verified with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from redis.asyncio import Redis

from auth_service.keys.service import SigningKeys
from auth_service.metrics import AuthMetrics
from auth_service.revocations.publisher import RevocationPublisher
from auth_service.revocations.service import Revoker
from auth_service.settings import AuthSettings
from shared.auth.revocation_feed import RevocationFeed, feed_redis
from shared.auth.verifier import TokenVerifier

__all__ = ["RevocationPropagation"]


@dataclass(frozen=True, slots=True)
class RevocationPropagation:
    revoker: Revoker
    publisher: RevocationPublisher
    feed: RevocationFeed
    feed_redis: Redis
    """The feed's own client: its reads block for a second, the shared one has short timeouts."""

    @classmethod
    def build(
        cls, settings: AuthSettings, redis: Redis, metrics: AuthMetrics, revoker: Revoker, leeway: float
    ) -> RevocationPropagation:
        """The publisher on the shared client; the feed for verifiers with ``leeway``."""
        publisher = RevocationPublisher(
            settings.database.database_url,
            redis,
            settings.redis.redis_prefix,
            longest_ttl=revoker.longest_ttl,
            on_redis_error=metrics.redis_error,
        )
        client = feed_redis(settings.redis.redis_url)
        feed = RevocationFeed(
            client,
            settings.redis.redis_prefix,
            leeway=leeway,
            grace=settings.redis.revocation_grace,
            on_event=metrics.revocation_event,
            on_error=metrics.revocation_feed_error,
        )
        metrics.watch_revocation_feed_age(lambda: feed.age_seconds)
        return cls(revoker, publisher, feed, client)

    def follow_key_revocations(self, signing_keys: SigningKeys, verifiers: Iterable[TokenVerifier]) -> None:
        self.feed.on_key_revoked = signing_keys.reload
        for verifier in verifiers:
            signing_keys.on_key_revoked(verifier.forget_key)

    async def start(self) -> None:
        """Publish first, so the feed's first load holds what was revoked while no replica ran."""
        await self.publisher.start()
        await self.feed.start()

    async def stop(self) -> None:
        await self.feed.close()
        await self.publisher.stop()
        await self.feed_redis.aclose()
