"""What a revocation left behind, as a verifier and the database see it: stream entries and rows.

The stream is read with the app's own Redis client, on the app's event loop (``AuthClient.call``).
"""

from __future__ import annotations

import time
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from shared.auth.revocation_events import stream_key
from tests.auth_service.conftest import AuthClient

__all__ = ["recorded", "stream_entries", "stream_entry"]

PUBLISHED_WITHIN = 1.0
"""Seconds within which a committed revocation must be on the stream (the issue's propagation bound)."""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def stream_entries(auth: AuthClient) -> list[dict[str, str]]:
    """Every entry of the app's revocation stream, oldest first, as text."""
    key = stream_key(auth.services.settings.redis.redis_prefix)
    entries: list[Any] = auth.call(auth.services.redis.xrange, key)
    return [{_text(k): _text(v) for k, v in fields.items()} for _, fields in entries]


def stream_entry(auth: AuthClient, kind: str, value: str, within: float = PUBLISHED_WITHIN) -> dict[str, str]:
    """The entry revoking ``value``, waited for at most ``within`` seconds (else the test fails).
    A Redis just restarted closes the client's pooled connections: that read is tried again."""
    deadline = time.monotonic() + within
    while True:
        try:
            entries = stream_entries(auth)
        except RedisConnectionError:
            entries = []
        found = [e for e in entries if e["kind"] == kind and e["value"] == value]
        if found:
            return found[-1]
        assert time.monotonic() < deadline, f"no {kind} {value} on the stream within {within} s"
        time.sleep(0.02)


def recorded(auth: AuthClient, kind: str | None = None) -> list[tuple[str, str]]:
    """The revocations the database holds, as (kind, value), oldest first."""

    async def rows() -> list[tuple[str, str]]:
        async with auth.services.pool.acquire() as conn:
            found = await conn.fetch("SELECT kind, value FROM revocations ORDER BY id")
        return [(r["kind"], r["value"]) for r in found if kind is None or r["kind"] == kind]

    result: list[tuple[str, str]] = auth.call(rows)
    return result
