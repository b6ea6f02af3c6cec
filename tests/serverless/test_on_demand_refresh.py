"""What replaces the background refreshes in a frozen environment, on a real issuer over HTTP and
a real Redis, with clocks the tests move: the JWKS refetched only past its max-age (or after a
key revocation), backing off while the issuer is down; the revocation stream read when a request
comes, so an environment frozen past the grace neither answers 503 nor misses a revocation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from shared.auth.jwks_on_demand import OnDemandJwksCache
from shared.auth.revocation_catch_up import RevocationCatchUp
from shared.auth.revocation_feed import RevocationFeed, feed_redis
from shared.auth.verifier import InvalidToken, RevocationCheckUnavailable
from tests.shared.auth.clock import ManualClock
from tests.shared.auth.jwks_server import JwksServer
from tests.shared.auth.revocation_stream import access_claims, publish, revocation, unique_prefix
from tests.shared.auth.token_factory import SigningKey, jwks

KEY = SigningKey.generate("RS256", kid="on-demand")


@pytest.fixture
def server() -> Iterator[JwksServer]:
    issuer = JwksServer()
    issuer.serve_issuer(jwks(KEY))
    issuer.max_age = 60
    with issuer.running():
        yield issuer


async def test_jwks_refetched_only_when_due_and_backing_off(server: JwksServer) -> None:
    clock = ManualClock(1000.0)
    cache = OnDemandJwksCache(server.url, clock=clock)
    try:
        await cache.start()
        assert cache.get(KEY.kid) is not None
        assert cache.refreshing is False  # no background task
        for _ in range(3):
            await cache.refresh_if_due()
        assert server.jwks_requests == 1
        clock.advance(61)
        assert cache.is_due()
        await cache.refresh_if_due()
        assert server.jwks_requests == 2

        server.failing = True
        clock.advance(61)
        await cache.refresh_if_due()  # fails: keys stay, the next try waits for the back-off
        await cache.refresh_if_due()
        assert server.jwks_requests == 2
        assert cache.get(KEY.kid) is not None
        assert not cache.is_due()
        clock.advance(2)
        assert cache.is_due()

        server.failing = False
        await cache.refresh_if_due()
        cache.revoke(KEY.kid)  # a revocation asks for a refetch, done by the next invocation
        assert cache.get(KEY.kid) is None
        assert cache.is_due()
    finally:
        await cache.close()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_a_frozen_environment_catches_up_instead_of_refusing(
    redis: Redis, redis_url: str, redis_namespace: str
) -> None:
    prefix = unique_prefix(redis_namespace)
    wall, steady = ManualClock(2_000_000_000.0), ManualClock(50.0)
    client = feed_redis(redis_url)
    feed = RevocationFeed(client, prefix, leeway=30, grace=5, clock=wall)
    catch_up = RevocationCatchUp(feed, interval=1.0, clock=steady)
    try:
        await feed.start()
        await catch_up.start()
        token = access_claims(jti="frozen-jti", iat=int(wall()), exp=int(wall()) + 600)
        feed.check(token)

        wall.advance(120)  # frozen for two minutes, past the grace: nothing ran meanwhile
        steady.advance(120)
        with pytest.raises(RevocationCheckUnavailable):
            feed.check(token)  # what the plain feed would answer: 503
        await publish(redis, prefix, revocation("jti", "frozen-jti", at=wall(), exp=int(wall()) + 600))
        await catch_up.catch_up()  # the next invocation starts
        with pytest.raises(InvalidToken, match="revoked"):
            feed.check(token)
        feed.check(access_claims(jti="another", iat=int(wall()), exp=int(wall()) + 600))

        await publish(redis, prefix, revocation("jti", "second", at=wall(), exp=int(wall()) + 600))
        await catch_up.catch_up()  # under a second later: no read
        feed.check(access_claims(jti="second", iat=int(wall()), exp=int(wall()) + 600))
        steady.advance(1)
        await catch_up.catch_up()
        with pytest.raises(InvalidToken, match="revoked"):
            feed.check(access_claims(jti="second", iat=int(wall()), exp=int(wall()) + 600))
    finally:
        await feed.close()
        await client.aclose()
