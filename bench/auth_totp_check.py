"""What a TOTP check adds to a login: the second step's work, measured in the auth service's code.

A person with a confirmed TOTP factor gives a right code N times (the injected clock moves one
30-second step per check, so no code is a replay): the Redis throttle before and after, the sealed
secret read and opened (AES-GCM), pyotp's comparison over the +-1 window and the conditional update
of the last used step. Prints the process CPU per check (all of it runs on the event loop's thread:
it is an upper bound of the event-loop time a TOTP check adds to a login) and the wall time per
check. Goal: under 2 ms of event-loop time.

Run: .venv/bin/python -m bench.auth_totp_check   [BENCH_CHECKS=2000]
Uses BENCH_DATABASE_URL / BENCH_REDIS_URL (server URLs) when set, else embedded servers.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import time
from typing import Any, cast

import pyotp
from litestar import Litestar

from auth_service.audit.service import Actor
from auth_service.settings import ENV_PREFIX, AuthSettings
from auth_service.wiring import build_services
from bench.auth_tokens import ROOT, data_stores
from devstack.databases import create_database, drop_database
from shared.db.migrate import apply_migrations
from shared.settings import settings_from_values

CHECKS = int(os.environ.get("BENCH_CHECKS", "2000"))
GOAL_MS = 2.0


async def measure(database_url: str, redis_url: str) -> tuple[float, float]:
    """(CPU ms, wall ms) per right TOTP code."""
    now = [time.time()]
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "redis_prefix": f"bench-totp-{secrets.token_hex(4)}:",
        "key_encryption_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "mail_delivery_enabled": False,
    }
    services = build_services(settings_from_values(AuthSettings, values, ENV_PREFIX), clock=lambda: now[0])
    factors = services.browser.factors
    actor = Actor(id="bench", source_ip="127.0.0.1")
    async with services.running(cast(Litestar, None)):
        async with services.pool.acquire() as conn:
            user_id = await conn.fetchval(
                "INSERT INTO users (email, password_hash) VALUES ('totp@bench.test', 'x') RETURNING id"
            )
        enrolment = await factors.enrolments.begin_totp(user_id, "totp@bench.test")
        otp = pyotp.TOTP(enrolment.secret.replace(" ", ""))
        await factors.enrolments.confirm_totp(user_id, otp.at(now[0]), actor)
        for _ in range(50):  # warm-up: statement caches, connections
            now[0] += 30
            await factors.factors.verify_totp(user_id, otp.at(now[0]), actor)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(CHECKS):
            now[0] += 30
            await factors.factors.verify_totp(user_id, otp.at(now[0]), actor)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return cpu / CHECKS * 1000, wall / CHECKS * 1000


def main() -> None:
    with data_stores() as (server_url, redis_url):
        name = f"bench_totp_{secrets.token_hex(3)}"
        database_url = asyncio.run(create_database(server_url, name))
        try:
            asyncio.run(apply_migrations(database_url, ROOT / "auth_service" / "migrations", "auth_service"))
            cpu_ms, wall_ms = asyncio.run(measure(database_url, redis_url))
        finally:
            asyncio.run(drop_database(server_url, name))
    verdict = "ok" if cpu_ms < GOAL_MS else "above the goal"
    print(
        f"TOTP check ({CHECKS} right codes): {cpu_ms:.3f} ms CPU per check (goal < {GOAL_MS} ms: {verdict}), "
        f"{wall_ms:.3f} ms wall"
    )


if __name__ == "__main__":
    main()
