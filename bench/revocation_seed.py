"""Fill a revocation stream the way a busy auth service would, for bench/customer_peers.sh.

The customer service then loads these entries at start and checks every token against them, so
the "revocation on" figures include a realistic set (none of them revokes the bench's tokens).

Usage: python -m bench.revocation_seed REDIS_URL PREFIX [COUNT]
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

from redis.asyncio import Redis

from shared.auth.revocation_events import Revocation, RevocationKind, encode_entry, stream_key


async def seed(url: str, prefix: str, count: int) -> None:
    redis = Redis.from_url(url)
    now = time.time()
    kinds: tuple[RevocationKind, ...] = ("jti", "sid", "sub", "client", "role")
    try:
        key = stream_key(prefix)
        await redis.delete(key)
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(count):
                kind = kinds[i % len(kinds)]
                entry = Revocation(kind=kind, value=f"bench-{uuid.uuid4()}", at=now, exp=int(now) + 3600)
                pipe.xadd(key, encode_entry(entry))  # type: ignore[arg-type]
            await pipe.execute()
        print(f"bench: {count} revocations in {key}")
    finally:
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(seed(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1000))
