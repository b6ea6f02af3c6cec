"""JwksCache against a real HTTP server: discovery, caching, unknown kids, the issuer failing, revocation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from shared.auth.jwks import JwksCache
from shared.auth.keys import PreparedKey, StaticKeySource
from shared.auth.verifier import InvalidToken, TokenVerifier
from tests.shared.auth.clock import ManualClock
from tests.shared.auth.jwks_server import JwksServer
from tests.shared.auth.token_factory import AUDIENCE, SigningKey, claims, jwks

FIRST = SigningKey.generate("RS256", kid="first")
SECOND = SigningKey.generate("ES256", kid="second")


@pytest.fixture
def server() -> Iterator[JwksServer]:
    server = JwksServer()
    server.jwks = jwks(FIRST)
    with server.running():
        yield server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1000.0)


@pytest.fixture
async def cache(server: JwksServer, clock: ManualClock) -> AsyncIterator[JwksCache]:
    cache = JwksCache(server.url, unknown_kid_interval=0.5, clock=clock)
    yield cache
    await cache.close()


def verifier_for(cache: JwksCache, issuer: str) -> TokenVerifier:
    return TokenVerifier(cache, issuer=issuer, audience=AUDIENCE)


async def test_discovers_and_verifies(server: JwksServer, cache: JwksCache) -> None:
    assert not cache.is_ready()
    await cache.refresh()
    assert cache.is_ready()
    assert cache.jwks_url == server.url + "/jwks.json"
    assert (await verifier_for(cache, server.url).verify(FIRST.sign(claims(iss=server.url)))).sub == "user-1"


async def test_metadata_naming_another_issuer_is_refused(server: JwksServer, cache: JwksCache) -> None:
    server.metadata_issuer = "http://evil.test"
    await cache.refresh_for_unknown_kid("first")
    assert not cache.is_ready()


async def test_unknown_kid_refetches_once_per_interval_single_flight(
    server: JwksServer, cache: JwksCache
) -> None:
    await cache.refresh()
    assert server.jwks_requests == 1
    verifier = verifier_for(cache, server.url)
    attacker = SigningKey.generate("RS256")
    forged = [attacker.sign(claims(iss=server.url), headers={"kid": f"forged-{i}"}) for i in range(50)]
    results = await asyncio.gather(*(verifier.verify(t) for t in forged), return_exceptions=True)
    assert all(isinstance(r, InvalidToken) and r.reason == "unknown_kid" for r in results)
    assert server.jwks_requests <= 2  # at most one refetch for the whole flood


async def test_new_key_is_picked_up_on_unknown_kid(
    server: JwksServer, cache: JwksCache, clock: ManualClock
) -> None:
    await cache.refresh()
    server.jwks = jwks(FIRST, SECOND)
    token = SECOND.sign(claims(iss=server.url))
    with pytest.raises(InvalidToken, match="unknown key"):  # within unknown_kid_interval: no refetch
        await verifier_for(cache, server.url).verify(token)
    clock.advance(0.5)
    assert (await verifier_for(cache, server.url).verify(token)).sub == "user-1"
    assert server.jwks_requests == 2


async def test_keys_survive_the_issuer_failing(server: JwksServer) -> None:
    cache = JwksCache(server.url, min_max_age=0.0, stale_if_error=3600)
    try:
        server.max_age = 0
        await cache.refresh()
        server.failing = True
        await cache.refresh_for_unknown_kid("other")
        token = FIRST.sign(claims(iss=server.url))
        assert (await verifier_for(cache, server.url).verify(token)).sub == "user-1"
        assert cache.is_ready()
    finally:
        await cache.close()


async def test_keys_expire_after_stale_if_error(server: JwksServer, clock: ManualClock) -> None:
    cache = JwksCache(server.url, min_max_age=0.0, stale_if_error=0.5, clock=clock)
    try:
        server.max_age = 0
        await cache.refresh()
        server.failing = True
        clock.advance(0.5)
        assert cache.is_ready()  # stale, but within stale_if_error
        clock.advance(0.001)
        assert not cache.is_ready()
        assert cache.get("first") is None
    finally:
        await cache.close()


async def test_background_refresh_starts_without_the_issuer(server: JwksServer) -> None:
    server.failing = True
    cache = JwksCache(server.url)
    try:
        await cache.start()
        await asyncio.sleep(0.2)
        assert not cache.is_ready()
        server.failing = False
        for _ in range(40):
            if cache.is_ready():
                break
            await asyncio.sleep(0.1)
        assert cache.is_ready()
    finally:
        await cache.close()


async def test_configured_jwks_url_skips_discovery(server: JwksServer) -> None:
    cache = JwksCache("http://issuer.elsewhere", jwks_url=server.url + "/jwks.json")
    try:
        await cache.refresh()
        assert cache.get("first") is not None
    finally:
        await cache.close()


async def test_a_key_that_leaves_the_jwks_is_dropped_at_the_next_refresh(
    server: JwksServer, cache: JwksCache
) -> None:
    server.jwks = jwks(FIRST, SECOND)
    await cache.refresh()
    token = FIRST.sign(claims(iss=server.url))
    assert (await verifier_for(cache, server.url).verify(token)).sub == "user-1"
    server.jwks = jwks(SECOND)
    await cache.refresh()
    assert cache.get("first") is None
    with pytest.raises(InvalidToken, match="unknown key"):
        await verifier_for(cache, server.url).verify(FIRST.sign(claims(iss=server.url)))
    assert cache.get("second") is not None


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_a_revoked_key_is_refused_at_once_and_after_refetches_that_still_list_it(
    server: JwksServer, cache: JwksCache, clock: ManualClock
) -> None:
    server.jwks = jwks(FIRST, SECOND)  # a stale CDN copy keeps listing the revoked key
    await cache.refresh()
    cache.revoke("first")
    assert cache.get("first") is None
    await until(lambda: server.jwks_requests == 2)  # the refetch the revocation started
    clock.advance(0.5)
    verifier = verifier_for(cache, server.url)
    with pytest.raises(InvalidToken, match="unknown key"):
        await verifier.verify(FIRST.sign(claims(iss=server.url)))  # the unknown kid refetches too
    assert server.jwks_requests == 3
    assert cache.get("first") is None
    assert (await verifier.verify(SECOND.sign(claims(iss=server.url)))).sub == "user-1"


async def test_revoking_refetches_at_once_for_the_replacement_key(server: JwksServer) -> None:
    cache = JwksCache(server.url)
    try:
        await cache.start()
        await until(cache.is_ready)
        server.jwks = jwks(FIRST, SECOND)  # the issuer's fresh key, published with the revocation
        cache.revoke("first")
        await until(lambda: cache.get("second") is not None)  # no token had to ask for it
        assert cache.get("first") is None
        assert server.jwks_requests == 2
        cache.revoke("first")  # the same event again (a replay after a reconnect): no refetch
        await asyncio.sleep(0.1)
        assert server.jwks_requests == 2
    finally:
        await cache.close()


async def test_the_replacement_key_published_just_after_the_revocation_is_fetched_at_its_first_token(
    server: JwksServer, cache: JwksCache
) -> None:
    """The issuer publishes the replacement as it reloads, just after the revocation commits: the
    refetch the revocation started can come back without it. Its first token refetches at once,
    not after ``unknown_kid_interval`` (here 0.5 s, and the manual clock does not move)."""
    await cache.refresh()
    cache.revoke("first")
    await until(lambda: server.jwks_requests == 2)  # raced the issuer: no replacement in it yet
    server.jwks = jwks(SECOND)
    verifier = verifier_for(cache, server.url)
    assert (await verifier.verify(SECOND.sign(claims(iss=server.url)))).sub == "user-1"
    assert server.jwks_requests == 3


async def test_a_failing_refetch_after_revoking_is_logged_not_raised(
    server: JwksServer, cache: JwksCache, caplog: pytest.LogCaptureFixture
) -> None:
    server.jwks = jwks(FIRST, SECOND)
    await cache.refresh()
    server.failing = True
    cache.revoke("first")  # not started: the refetch runs as a task of its own
    await until(lambda: "refetch failed" in caplog.text)
    assert cache.get("first") is None
    assert cache.get("second") is not None


def test_revoking_without_a_running_event_loop() -> None:
    cache = JwksCache("http://issuer.test")
    cache.revoke("first")  # e.g. a synchronous operator hook: no loop, nothing raised
    asyncio.run(cache.close())
    keys = StaticKeySource(
        [PreparedKey.from_jwk(FIRST.public_jwk()), PreparedKey.from_jwk(SECOND.public_jwk())]
    )
    keys.revoke("first")
    assert keys.get("first") is None
    keys.replace([PreparedKey.from_jwk(FIRST.public_jwk())])  # a reload that read the old keys
    assert keys.get("first") is None
    assert not keys.is_ready()
