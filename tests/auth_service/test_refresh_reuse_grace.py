"""The refresh reuse grace: a repeat within AUTH_REFRESH_REUSE_GRACE gets the same successor.

Concurrent uses of one refresh token (a client retry, two tabs) used to end the session: one won
the rotation and every other tripped reuse detection. Now each gets the winner's successor, while
a reuse after the grace, after the successor was used, or by another client is refused as before.
Time moves with the clock the app is built with, never by sleeping. Also here: a refresh racing a
revocation of its session issues nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from litestar.testing import TestClient

from auth_service.app import app_for
from auth_service.wiring import build_services
from tests.auth_service.conftest import AGENT_EMAIL, AGENT_PASSWORD, AuthClient, SettingsFactory
from tests.auth_service.test_token_grants import assert_oauth_error, claims_of


class Clock:
    """Real time plus however far the test has moved it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@contextmanager
def serve(make_settings: SettingsFactory, clock: Clock, **overrides: Any) -> Iterator[AuthClient]:
    services = build_services(make_settings(**overrides), clock=clock)
    with TestClient(app_for(services)) as client:
        auth = AuthClient(client, services)
        auth.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        yield auth


@pytest.fixture
def auth(make_settings: SettingsFactory, clock: Clock) -> Iterator[AuthClient]:
    with serve(make_settings, clock) as served:
        yield served


def refresh(auth: AuthClient, token: str, client_id: str = "first-party", **extra: str) -> httpx.Response:
    return auth.token(
        {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": token, **extra}
    )


def fresh(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def session_state(auth: AuthClient, auth_db: str, sid: str) -> dict[str, Any]:
    """Whether the session is revoked, and what was recorded for verifiers and in the audit trail."""

    async def read() -> dict[str, Any]:
        conn = await asyncpg.connect(auth_db)
        try:
            return {
                "revoked": await conn.fetchval(
                    "SELECT revoked_at IS NOT NULL FROM refresh_families WHERE id = $1::uuid", sid
                ),
                "sid revocations": await conn.fetchval(
                    "SELECT count(*) FROM revocations WHERE kind = 'sid' AND value = $1", sid
                ),
                "reuse audited": await conn.fetchval(
                    "SELECT count(*) FROM audit_events WHERE action = 'refresh.reuse' AND target_id = $1", sid
                ),
            }
        finally:
            await conn.close()

    result: dict[str, Any] = auth.call(read)
    return result


ALIVE = {"revoked": False, "sid revocations": 0, "reuse audited": 0}
REVOKED_FOR_REUSE = {"revoked": True, "sid revocations": 1, "reuse audited": 1}


def test_concurrent_refreshes_with_one_token_all_get_the_same_successor(
    auth: AuthClient, auth_db: str
) -> None:
    login = auth.login(AGENT_EMAIL, AGENT_PASSWORD)
    form = {
        "grant_type": "refresh_token",
        "client_id": "first-party",
        "refresh_token": login["refresh_token"],
    }

    async def eight_at_once() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=auth.app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://auth.test") as client:
            return await asyncio.gather(*(client.post("/oauth/token", data=form) for _ in range(8)))

    responses: list[httpx.Response] = auth.call(eight_at_once)

    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
    bodies = [r.json() for r in responses]
    successors = {b["refresh_token"] for b in bodies}
    assert len(successors) == 1
    assert login["refresh_token"] not in successors
    claims = [claims_of(b["access_token"]) for b in bodies]
    assert len({c["jti"] for c in claims}) == 8  # each its own access token
    assert {c["sid"] for c in claims} == {claims_of(login["access_token"])["sid"]}
    assert session_state(auth, auth_db, claims[0]["sid"]) == ALIVE
    following = fresh(refresh(auth, successors.pop()))  # the successor rotates normally
    assert following["refresh_token"] not in {login["refresh_token"], bodies[0]["refresh_token"]}


def test_a_repeat_within_the_grace_follows_the_scope_rules_of_a_refresh(
    auth: AuthClient, auth_db: str
) -> None:
    login = auth.login(AGENT_EMAIL, AGENT_PASSWORD)
    first = fresh(refresh(auth, login["refresh_token"]))
    narrowed = fresh(refresh(auth, login["refresh_token"], scope="customers:read"))
    assert narrowed["refresh_token"] == first["refresh_token"]
    assert narrowed["scope"] == "customers:read"
    assert claims_of(narrowed["access_token"])["scope"] == "customers:read"
    assert_oauth_error(refresh(auth, login["refresh_token"], scope="customers:delete"), 400, "invalid_scope")
    sid = claims_of(login["access_token"])["sid"]
    assert session_state(auth, auth_db, sid) == ALIVE  # a refused repeat is not a reuse either


def test_a_reuse_after_the_grace_revokes_the_session(auth: AuthClient, auth_db: str, clock: Clock) -> None:
    login = auth.login(AGENT_EMAIL, AGENT_PASSWORD)
    first = fresh(refresh(auth, login["refresh_token"]))
    clock.advance(9)
    assert fresh(refresh(auth, login["refresh_token"]))["refresh_token"] == first["refresh_token"]
    clock.advance(2)  # 11 s after the first use: past the 10 s default
    reuse = refresh(auth, login["refresh_token"])
    assert_oauth_error(reuse, 400, "invalid_grant")
    assert "revoked" in reuse.json()["error_description"]
    assert_oauth_error(refresh(auth, first["refresh_token"]), 400, "invalid_grant")
    assert session_state(auth, auth_db, claims_of(login["access_token"])["sid"]) == REVOKED_FOR_REUSE


def test_a_reuse_after_the_successor_was_used_revokes_the_session(auth: AuthClient, auth_db: str) -> None:
    login = auth.login(AGENT_EMAIL, AGENT_PASSWORD)
    first = fresh(refresh(auth, login["refresh_token"]))
    second = fresh(refresh(auth, first["refresh_token"]))
    assert_oauth_error(refresh(auth, login["refresh_token"]), 400, "invalid_grant")
    assert_oauth_error(refresh(auth, second["refresh_token"]), 400, "invalid_grant")
    assert session_state(auth, auth_db, claims_of(login["access_token"])["sid"]) == REVOKED_FOR_REUSE


def test_another_client_presenting_the_token_is_refused_and_revokes_nothing(
    auth: AuthClient, auth_db: str, clock: Clock
) -> None:
    other = auth.create_client(
        client_name="other app", grant_types=["refresh_token"], token_endpoint_auth_method="none"
    )
    login = auth.login(AGENT_EMAIL, AGENT_PASSWORD)
    first = fresh(refresh(auth, login["refresh_token"]))
    assert_oauth_error(refresh(auth, login["refresh_token"], client_id=other.client_id), 400, "invalid_grant")
    clock.advance(60)
    assert_oauth_error(refresh(auth, login["refresh_token"], client_id=other.client_id), 400, "invalid_grant")
    assert session_state(auth, auth_db, claims_of(login["access_token"])["sid"]) == ALIVE
    fresh(refresh(auth, first["refresh_token"]))  # the session goes on


def test_the_successor_is_kept_sealed_not_in_clear(auth: AuthClient, auth_db: str) -> None:
    login = auth.login(AGENT_EMAIL, AGENT_PASSWORD)
    first = fresh(refresh(auth, login["refresh_token"]))

    async def stored() -> list[bytes]:
        conn = await asyncpg.connect(auth_db)
        try:
            rows = await conn.fetch(
                "SELECT successor_sealed FROM refresh_tokens WHERE successor_sealed IS NOT NULL"
            )
            return [bytes(r[0]) for r in rows]
        finally:
            await conn.close()

    sealed: list[bytes] = auth.call(stored)
    assert len(sealed) == 1
    assert first["refresh_token"].encode() not in sealed[0]


def test_a_grace_of_zero_revokes_at_the_first_reuse(
    make_settings: SettingsFactory, clock: Clock, auth_db: str
) -> None:
    with serve(make_settings, clock, refresh_reuse_grace=0) as auth:
        login = auth.login(AGENT_EMAIL, AGENT_PASSWORD)
        first = fresh(refresh(auth, login["refresh_token"]))
        assert_oauth_error(refresh(auth, login["refresh_token"]), 400, "invalid_grant")
        assert_oauth_error(refresh(auth, first["refresh_token"]), 400, "invalid_grant")
        assert session_state(auth, auth_db, claims_of(login["access_token"])["sid"]) == REVOKED_FOR_REUSE


WAITING = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%refresh_families%'
"""


def test_a_refresh_racing_a_revocation_of_its_session_issues_nothing(auth: AuthClient, auth_db: str) -> None:
    """The revocation's transaction holds the session row while the refresh arrives; once it
    commits, the refresh must not answer with tokens the revocation never covered."""
    login = auth.login(AGENT_EMAIL, AGENT_PASSWORD)
    sid = claims_of(login["access_token"])["sid"]
    form = {
        "grant_type": "refresh_token",
        "client_id": "first-party",
        "refresh_token": login["refresh_token"],
    }

    async def race() -> httpx.Response:
        revoking = await asyncpg.connect(auth_db)
        watcher = await asyncpg.connect(auth_db)
        transport = httpx.ASGITransport(app=auth.app)  # type: ignore[arg-type]
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://auth.test") as client:
                transaction = revoking.transaction()
                await transaction.start()
                await revoking.execute(
                    "UPDATE refresh_families SET revoked_at = now(), revoked_reason = 'revoked' "
                    "WHERE id = $1::uuid",
                    sid,
                )
                refreshing = asyncio.create_task(client.post("/oauth/token", data=form))
                for _ in range(100):  # until the refresh waits for the session row
                    if await watcher.fetchval(WAITING) or refreshing.done():
                        break
                    await asyncio.sleep(0.05)
                await transaction.commit()
                return await refreshing
        finally:
            await revoking.close()
            await watcher.close()

    assert_oauth_error(auth.call(race), 400, "invalid_grant")


def test_a_sealed_successor_opens_only_next_to_the_token_it_was_rotated_from(
    auth: AuthClient, auth_db: str
) -> None:
    """Bound to the presented token's digest (associated data): a blob copied onto another used
    token's row answers nothing, instead of handing out the other session's successor."""
    mine, theirs = auth.login(AGENT_EMAIL, AGENT_PASSWORD), auth.login(AGENT_EMAIL, AGENT_PASSWORD)
    fresh(refresh(auth, mine["refresh_token"]))
    fresh(refresh(auth, theirs["refresh_token"]))

    async def swap() -> None:
        conn = await asyncpg.connect(auth_db)
        try:
            status = await conn.execute(
                "UPDATE refresh_tokens AS mine SET successor_sealed = theirs.successor_sealed "
                "FROM refresh_tokens AS theirs WHERE mine.digest = sha256(convert_to($1, 'UTF8')) "
                "AND theirs.digest = sha256(convert_to($2, 'UTF8'))",
                mine["refresh_token"],
                theirs["refresh_token"],
            )
            assert status == "UPDATE 1"
        finally:
            await conn.close()

    auth.call(swap)
    assert_oauth_error(refresh(auth, mine["refresh_token"]), 400, "invalid_grant")
    fresh(refresh(auth, theirs["refresh_token"]))  # the other session's repeat still works
