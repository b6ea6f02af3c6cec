"""How fast does shared.auth.TokenVerifier verify, cold (signature checked) and warm (cached)?

Compared with bare ``jwt.decode`` on the same token and a prepared key, which is what a
hand-written resource server does per request. Goal: the warm path under 5 us.
Run: .venv/bin/python -m bench.verifier   (single process, one core)
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt

from shared.auth.keys import PreparedKey, StaticKeySource
from shared.auth.verifier import TokenVerifier
from tests.shared.auth.token_factory import AUDIENCE, ISSUER, SigningKey, claims


def rate(fn: Callable[[], Any], seconds: float = 1.0) -> float:
    """Calls per second of ``fn`` over about ``seconds``."""
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(100):
            fn()
        count += 100
    return count / elapsed


def main() -> None:
    loop = asyncio.new_event_loop()
    print(f"{'alg':<7} {'jwt.decode':>12} {'cold verify':>12} {'warm verify':>12} {'warm us':>8}")
    for alg in ("RS256", "ES256", "EdDSA"):
        key = SigningKey.generate(alg)
        prepared = PreparedKey.from_jwk(key.public_jwk())
        pyjwk = jwt.PyJWK(key.public_jwk())
        token = key.sign(claims())

        def bare(token: str = token, pyjwk: jwt.PyJWK = pyjwk, alg: str = alg) -> Any:
            return jwt.decode(token, pyjwk, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER)

        cold_verifier = TokenVerifier(
            StaticKeySource([prepared]), issuer=ISSUER, audience=AUDIENCE, cache_size=0
        )
        tokens = [key.sign(claims(jti=uuid.uuid4().hex)) for _ in range(50)]

        async def cold_loop(
            n: int, verifier: TokenVerifier = cold_verifier, tokens: list[str] = tokens
        ) -> float:
            started = time.perf_counter()
            for i in range(n):
                await verifier.verify(tokens[i % 50])
            return (time.perf_counter() - started) / n

        cold_seconds = loop.run_until_complete(cold_loop(3000))
        warm_verifier = TokenVerifier(StaticKeySource([prepared]), issuer=ISSUER, audience=AUDIENCE)

        async def warm_loop(n: int, verifier: TokenVerifier = warm_verifier, token: str = token) -> float:
            await verifier.verify(token)
            started = time.perf_counter()
            for _ in range(n):
                await verifier.verify(token)
            return (time.perf_counter() - started) / n

        warm_seconds = loop.run_until_complete(warm_loop(200_000))
        print(
            f"{alg:<7} {rate(bare):>10,.0f}/s {1 / cold_seconds:>10,.0f}/s {1 / warm_seconds:>10,.0f}/s "
            f"{warm_seconds * 1e6:>8.2f}"
        )
    loop.close()


if __name__ == "__main__":
    main()
