"""The revocation stream as redis-py speaks it: a client fit for following it, entry ids, replies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

__all__ = ["Entries", "feed_redis", "id_order", "stream_id", "xread_entries"]

Entries = Sequence[Any]
"""``(id, fields)`` pairs as redis-py gives them."""


def feed_redis(url: str, *, socket_timeout: float = 5.0) -> Redis:
    """A client fit for a feed: reads time out (longer than the 1 s ``XREAD BLOCK``) so a hung
    server is an error, not a silent stall; and redis-py's own retries are off, so every failure
    reaches the feed, which logs, counts and retries it itself."""
    return Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=2.0,
        socket_keepalive=True,
        health_check_interval=15,
        retry=Retry(NoBackoff(), 0),
    )


def stream_id(value: bytes | str) -> str:
    return value.decode("ascii") if isinstance(value, bytes) else value


def id_order(entry_id: str) -> tuple[int, int]:
    """Stream ids compare as (milliseconds, sequence), not as text."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def xread_entries(reply: Any) -> Entries:
    """The entries of an ``XREAD`` reply on one stream (RESP2: a list of pairs; RESP3: a dict)."""
    if isinstance(reply, dict):
        return next(iter(reply.values()), [])
    return reply[0][1] if reply else []
