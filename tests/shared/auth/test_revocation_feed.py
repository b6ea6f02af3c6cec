"""What a verifier holds of the auth service's revocations, and how it keeps following them.

``RevocationSet`` (pure, in memory) is tested with a clock the test moves; ``RevocationFeed``
against a real Redis, written to as the publisher writes (``XADD`` of ``encode_entry``). Tests that
kill connections or restart Redis run their own server, never the shared one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from devstack.embedded import EmbeddedRedis
from shared.auth.claims import AccessClaims
from shared.auth.keys import PreparedKey, StaticKeySource
from shared.auth.revocation_events import (
    REVOCATION_MARGIN,
    Revocation,
    RevocationKind,
    encode_entry,
    stream_key,
)
from shared.auth.revocation_feed import PAGE, RevocationFeed, RevocationSet, feed_redis
from shared.auth.verifier import InvalidToken, RevocationCheckUnavailable, TokenVerifier
from tests.shared.auth.clock import ManualClock
from tests.shared.auth.revocation_stream import access_claims, eventually, publish, revocation, unique_prefix
from tests.shared.auth.token_factory import AUDIENCE, ISSUER, SigningKey, claims

LEEWAY = 30
NOW = int(time.time())
TARGET = access_claims(jti="j-1", sid="s-1", sub="user-1", client_id="app-1", roles=["agent"], iat=NOW - 10)
OTHER = access_claims(jti="j-2", sid="s-2", sub="user-2", client_id="app-2", roles=["viewer"], iat=NOW - 10)
VALUES: dict[RevocationKind, str] = {
    "jti": "j-1", "sid": "s-1", "sub": "user-1", "client": "app-1", "role": "agent"
}  # fmt: skip

FeedFactory = Callable[..., Awaitable[RevocationFeed]]


# ------------------------------------------------------------------ RevocationSet
@pytest.mark.parametrize("kind", list(VALUES))
def test_each_kind_revokes_its_tokens_and_no_other(kind: RevocationKind) -> None:
    held = RevocationSet(LEEWAY)
    held.add(revocation(kind, VALUES[kind]))
    assert held.revoked(TARGET)
    assert not held.revoked(OTHER)
    assert len(held) == 1


def test_a_role_revokes_tokens_carrying_it_among_others() -> None:
    held = RevocationSet(LEEWAY)
    held.add(revocation("role", "auditor"))
    assert held.revoked(access_claims(roles=["viewer", "auditor"], iat=NOW - 10))
    assert not held.revoked(access_claims(roles=[], iat=NOW - 10))


def test_a_key_revocation_is_not_answered_by_claims() -> None:
    """Tokens of a revoked key are refused by the key source (``on_key_revoked``), not here."""
    held = RevocationSet(LEEWAY)
    held.add(revocation("kid", "k-1"))
    assert len(held) == 1
    assert not held.revoked(TARGET)


@pytest.mark.parametrize(("kind", "value"), [("sub", "user-1"), ("client", "app-1"), ("role", "agent")])
def test_time_bound_kinds_revoke_tokens_issued_up_to_the_revocation(kind: RevocationKind, value: str) -> None:
    held = RevocationSet(LEEWAY)
    held.add(revocation(kind, value, at=NOW + 0.5))
    issued = {
        iat: held.revoked(access_claims(sub="user-1", client_id="app-1", roles=["agent"], iat=iat))
        for iat in (NOW - 300, NOW, NOW + 1)
    }
    # The same second as the revocation, even just after it, is refused: iat has whole seconds.
    assert issued == {NOW - 300: True, NOW: True, NOW + 1: False}


def test_jti_and_sid_revoke_whatever_the_issue_time() -> None:
    held = RevocationSet(LEEWAY)
    held.add(revocation("sid", "s-1", at=NOW - 100))
    assert held.revoked(access_claims(sid="s-1", iat=NOW))  # a token refreshed after: same session


def test_an_entry_outlives_the_token_by_the_leeway_and_the_margin() -> None:
    """The deny-list's bug: its entry went at ``exp`` while verifiers accepted until ``exp + leeway``."""
    clock = ManualClock(NOW)
    held = RevocationSet(LEEWAY, clock, prune_every=0)
    exp = NOW + 600
    held.add(revocation("jti", "j-1", exp=exp))
    for moment in (exp - 1, exp + 5, exp + LEEWAY - 1, exp + LEEWAY + REVOCATION_MARGIN - 1):
        clock.now = moment
        held.prune_if_due()
        assert held.revoked(TARGET), moment - exp
    clock.now = exp + LEEWAY + REVOCATION_MARGIN
    held.prune_if_due()
    assert len(held) == 0
    assert not held.revoked(TARGET)


def test_an_entry_past_its_keep_time_is_not_held() -> None:
    held = RevocationSet(LEEWAY)
    held.add(revocation("jti", "j-1", exp=NOW - LEEWAY - REVOCATION_MARGIN - 1))
    assert len(held) == 0


def test_expired_entries_are_dropped_as_new_ones_come() -> None:
    clock = ManualClock(NOW)
    held = RevocationSet(LEEWAY, clock, prune_every=10)
    for n in range(1000):
        held.add(revocation("jti", f"old-{n}", exp=NOW + 60))
    clock.advance(60 + LEEWAY + REVOCATION_MARGIN)
    held.add(revocation("jti", "new", exp=int(clock.now) + 600))
    assert len(held) == 1


def test_revoking_a_subject_again_extends_the_entry_never_shrinks_it() -> None:
    clock = ManualClock(NOW)
    held = RevocationSet(LEEWAY, clock, prune_every=0)
    later = revocation("sub", "user-1", at=NOW + 100, exp=NOW + 1300)
    held.add(later)
    held.add(revocation("sub", "user-1", at=NOW, exp=NOW + 700))  # older, read after (a reload)
    token = access_claims(sub="user-1", iat=NOW + 50)
    assert held.revoked(token)
    clock.now = NOW + 700 + LEEWAY + REVOCATION_MARGIN  # the older entry's time is up, not the later's
    held.prune_if_due()
    assert held.revoked(token)
    clock.now = later.keep_until(LEEWAY)
    held.prune_if_due()
    assert len(held) == 0


def test_a_leeway_above_the_maximum_is_refused() -> None:
    with pytest.raises(ValueError, match="leeway"):
        RevocationSet(301)


# ------------------------------------------------------------------ RevocationFeed
@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def prefix(redis_namespace: str) -> str:
    return unique_prefix(f"{redis_namespace}:feed")


@pytest.fixture
async def make_feed(redis_url: str, prefix: str) -> AsyncIterator[FeedFactory]:
    started: list[tuple[RevocationFeed, Redis]] = []

    async def make(url: str = redis_url, **options: Any) -> RevocationFeed:
        client = feed_redis(url)
        options = {"leeway": LEEWAY, "grace": 30.0, **options}
        feed = RevocationFeed(client, options.pop("prefix", prefix), **options)
        started.append((feed, client))
        await feed.start()
        return feed

    yield make
    for feed, client in started:
        await feed.close()
        await client.aclose()


def is_revoked(feed: RevocationFeed, token: AccessClaims) -> bool:
    try:
        feed.check(token)
    except InvalidToken as exc:
        return exc.reason == "revoked"
    return False


def jti(value: str) -> AccessClaims:
    return access_claims(jti=value)


async def test_loads_what_the_stream_holds_at_start(
    redis: Redis, prefix: str, make_feed: FeedFactory
) -> None:
    count = 2 * PAGE + 5  # more than one page
    async with redis.pipeline(transaction=False) as pipe:
        for n in range(count):
            pipe.xadd(stream_key(prefix), encode_entry(revocation("jti", f"j-{n}")))  # type: ignore[arg-type]
        await pipe.execute()
    feed = await make_feed()
    assert feed.is_ready()
    assert len(feed) == count
    assert is_revoked(feed, jti("j-0"))
    assert is_revoked(feed, jti(f"j-{count - 1}"))
    assert not is_revoked(feed, jti("j-other"))


async def test_follows_new_revocations_within_a_second(
    redis: Redis, prefix: str, make_feed: FeedFactory
) -> None:
    events: list[str] = []
    feed = await make_feed(on_event=events.append)
    assert feed.is_ready()
    assert len(feed) == 0  # an absent stream is an empty one
    await publish(redis, prefix, revocation("jti", "j-1"))
    assert await eventually(lambda: is_revoked(feed, TARGET), timeout=2) < 1.0
    await publish(redis, prefix, revocation("sub", "user-2"))
    assert await eventually(lambda: is_revoked(feed, OTHER), timeout=2) < 1.0
    assert not is_revoked(feed, access_claims(jti="j-3", sub="user-3", iat=NOW))
    assert events == ["jti", "sub"]


async def test_each_revoked_key_is_dropped_once(redis: Redis, prefix: str, make_feed: FeedFactory) -> None:
    await publish(redis, prefix, revocation("kid", "k-old"))
    dropped: list[str] = []
    await make_feed(on_key_revoked=dropped.append)
    assert dropped == ["k-old"]  # from the loaded stream
    await publish(redis, prefix, revocation("kid", "k-old"), revocation("kid", "k-new"))
    await eventually(lambda: dropped == ["k-old", "k-new"], timeout=2)


async def test_an_entry_it_cannot_read_is_skipped(redis: Redis, prefix: str, make_feed: FeedFactory) -> None:
    feed = await make_feed()
    await redis.xadd(stream_key(prefix), {"kind": "galaxy", "value": "x", "at": "1", "exp": "2"})
    await publish(redis, prefix, revocation("jti", "j-1"))
    await eventually(lambda: is_revoked(feed, TARGET), timeout=2)


async def test_a_verifier_refuses_a_revoked_token_until_its_leeway_is_over(
    redis: Redis, prefix: str, make_feed: FeedFactory
) -> None:
    """Past ``exp`` but within the leeway the verifier still accepts an unrevoked token; a revoked
    one must stay refused there (the deny-list let it through: its entry expired at ``exp``)."""
    clock = ManualClock(time.time())
    key = SigningKey.generate("EdDSA")
    feed = await make_feed(clock=clock)
    verifier = TokenVerifier(
        StaticKeySource([PreparedKey.from_jwk(key.public_jwk())]),
        issuer=ISSUER, audience=AUDIENCE, leeway=LEEWAY, revocations=feed, clock=clock,
    )  # fmt: skip
    exp = int(clock.now) + 10
    revoked, kept = claims(exp=exp), claims(exp=exp)
    await verifier.verify(key.sign(revoked))
    await publish(redis, prefix, revocation("jti", revoked["jti"], exp=exp))
    await eventually(lambda: len(feed) == 1, timeout=2)
    clock.now = exp + 5
    await publish(redis, prefix, revocation("jti", "marker"))  # read after the clock moved
    await eventually(lambda: is_revoked(feed, access_claims(jti="marker")), timeout=2)
    assert (await verifier.verify(key.sign(kept))).jti == kept["jti"]
    with pytest.raises(InvalidToken, match="revoked"):
        await verifier.verify(key.sign(revoked))


async def test_not_ready_and_refusing_before_the_first_load(make_feed: FeedFactory) -> None:
    errors: list[None] = []
    feed = await make_feed(url="redis://127.0.0.1:1/0", on_error=lambda: errors.append(None))
    assert not feed.is_ready()
    assert feed.age_seconds is None
    with pytest.raises(RevocationCheckUnavailable):
        feed.check(OTHER)
    assert errors  # counted (and retried)


async def test_a_killed_connection_is_reopened_and_nothing_written_meanwhile_is_missed(
    own_redis: EmbeddedRedis, make_feed: FeedFactory
) -> None:
    errors: list[None] = []
    feed = await make_feed(url=own_redis.url, prefix="p:", on_error=lambda: errors.append(None))
    writer = Redis.from_url(own_redis.url)
    try:
        for n in range(5):
            await writer.client_kill_filter(_type="normal", skipme=True)  # every client but the writer
            await publish(writer, "p:", revocation("jti", f"j-{n}"))
    finally:
        await writer.aclose()
    await eventually(lambda: all(is_revoked(feed, jti(f"j-{n}")) for n in range(5)), timeout=10)
    assert errors


async def write(url: str, *revocations: Revocation, entry_id: str = "*") -> None:
    """On a connection of its own: the server may have restarted since the last write."""
    writer = Redis.from_url(url)
    try:
        await publish(writer, "p:", *revocations, entry_id=entry_id)
    finally:
        await writer.aclose()


async def test_serves_within_grace_then_refuses_then_recovers_by_itself(
    own_redis: EmbeddedRedis, make_feed: FeedFactory
) -> None:
    clock = ManualClock(time.time())
    await write(own_redis.url, revocation("jti", "j-1"))
    feed = await make_feed(url=own_redis.url, prefix="p:", grace=5.0, clock=clock)
    await asyncio.to_thread(own_redis.stop)
    clock.advance(4.5)  # within the grace: the last known set answers
    assert is_revoked(feed, TARGET)
    assert not is_revoked(feed, OTHER)
    assert feed.is_ready()
    clock.advance(1.0)
    with pytest.raises(RevocationCheckUnavailable):
        feed.check(OTHER)
    assert not feed.is_ready()
    assert (feed.age_seconds or 0) > 5

    await asyncio.to_thread(own_redis.start)  # empty: the publisher republishes what is live
    await write(own_redis.url, revocation("jti", "j-2"))  # revoked before the feed is back
    await eventually(feed.is_ready, timeout=10, interval=0)
    assert is_revoked(feed, OTHER)  # current again only once it has read what Redis holds
    assert is_revoked(feed, TARGET)  # still held in memory
    assert not is_revoked(feed, access_claims(jti="j-3"))


async def test_redis_restarted_empty_entries_republished_with_any_ids_are_seen(
    own_redis: EmbeddedRedis, make_feed: FeedFactory
) -> None:
    """Republished entries normally get later ids; a restarted Redis whose clock is behind gives
    earlier ones, which reading on from our last id would skip. Here the stream is already back,
    past our last id, when the feed reconnects: only the restart itself says to reload."""
    await write(own_redis.url, revocation("jti", "j-1"))
    feed = await make_feed(url=own_redis.url, prefix="p:")
    await asyncio.to_thread(own_redis.stop)
    await asyncio.sleep(2.0)  # the feed backs off to its longest wait
    await asyncio.to_thread(own_redis.start)
    await write(own_redis.url, revocation("jti", "j-1"), entry_id="1-1")
    await write(own_redis.url, revocation("sid", "s-2"), entry_id="1-2")
    await write(own_redis.url, revocation("sub", "user-3"))
    await eventually(lambda: is_revoked(feed, access_claims(sub="user-3", iat=NOW)), timeout=10)
    await eventually(lambda: is_revoked(feed, OTHER), timeout=3)
    assert is_revoked(feed, TARGET)


async def test_a_stream_recreated_with_earlier_ids_is_reloaded(
    redis: Redis, prefix: str, make_feed: FeedFactory
) -> None:
    """Same Redis, stream deleted and written again below our last id (its last-generated id went back)."""
    feed = await make_feed()
    await publish(redis, prefix, revocation("jti", "j-1"))
    await eventually(lambda: is_revoked(feed, TARGET), timeout=2)
    await redis.delete(stream_key(prefix))
    await publish(redis, prefix, revocation("sid", "s-2"), entry_id="1-1")
    await eventually(lambda: is_revoked(feed, OTHER), timeout=5)


async def test_a_lost_stream_that_comes_back_past_our_id_is_reloaded(
    redis: Redis, prefix: str, make_feed: FeedFactory
) -> None:
    """Lost, then written again from below our last id to above it before the feed looks: its
    last-generated id no longer says so, its absence meanwhile did."""
    feed = await make_feed()
    await publish(redis, prefix, revocation("jti", "j-1"))
    await eventually(lambda: is_revoked(feed, TARGET), timeout=2)
    await redis.delete(stream_key(prefix))
    await asyncio.sleep(2.5)  # an idle read or two: the feed sees the stream gone
    await publish(redis, prefix, revocation("sid", "s-2"), entry_id="1-1")
    await publish(redis, prefix, revocation("sub", "user-3"))
    await eventually(lambda: is_revoked(feed, access_claims(sub="user-3", iat=NOW)), timeout=2)
    await eventually(lambda: is_revoked(feed, OTHER), timeout=3)


def test_grace_must_cover_an_idle_read() -> None:
    with pytest.raises(ValueError, match="grace"):
        RevocationFeed(Redis(), "p:", leeway=LEEWAY, grace=1.0)
