"""Writing the revocation stream as the auth service's publisher does (``XADD`` of
``encode_entry``), for verifier tests that must not depend on the auth service."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
from redis.asyncio import Redis

from shared.auth.claims import AccessClaims
from shared.auth.revocation_events import Revocation, RevocationKind, encode_entry, stream_key
from tests.shared.auth.token_factory import claims

__all__ = ["access_claims", "eventually", "publish", "revocation", "unique_prefix"]


def unique_prefix(namespace: str) -> str:
    return f"{namespace}:{uuid.uuid4().hex[:8]}:"


def revocation(
    kind: RevocationKind, value: str, *, at: float | None = None, exp: int | None = None
) -> Revocation:
    now = time.time()
    return Revocation(kind=kind, value=value, at=now if at is None else at, exp=exp or int(now) + 600)


async def publish(redis: Redis, prefix: str, *revocations: Revocation, entry_id: str = "*") -> list[str]:
    """XADD each, as the publisher does; ``entry_id`` other than ``*`` for one entry with that id."""
    ids = []
    for one in revocations:
        added = await redis.xadd(stream_key(prefix), encode_entry(one), id=entry_id)  # type: ignore[arg-type]
        ids.append(added.decode() if isinstance(added, bytes) else str(added))
    return ids


def access_claims(**overrides: Any) -> AccessClaims:
    """Claims as the verifier hands them over (whole-second times)."""
    return msgspec.convert(claims(**overrides), AccessClaims)


async def eventually(condition: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``. ``interval=0`` looks at every
    turn of the event loop, to catch a state that lasts only between two awaits."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        await asyncio.sleep(interval)
    return time.monotonic() - started
