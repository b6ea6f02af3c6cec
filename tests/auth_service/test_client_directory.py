"""OAuth clients are read through a short-lived per-replica cache (``AUTH_CLIENT_CACHE_TTL``).

What a client app sees: a change made through the admin API applies at once on the replica that
made it, and within the TTL on every other replica; the secret is checked on every request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from auth_service.clients.directory import ClientDirectory
from auth_service.clients.repository import ClientRecord
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AuthClient,
    SettingsFactory,
    basic,
    serving,
)

CC = {"grant_type": "client_credentials"}


@pytest.fixture
def admin(seeded: AuthClient) -> dict[str, str]:
    return seeded.bearer(seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


def _new_client(auth: AuthClient, admin: dict[str, str]) -> tuple[str, str]:
    created = auth.http.post(
        "/api/1/admin/clients/",
        json={"client_name": "reports", "grant_types": ["client_credentials"], "scope": "customers:read"},
        headers=admin,
    ).json()
    return created["client_id"], created["client_secret"]


def test_changes_apply_at_once_on_the_replica_that_made_them(
    seeded: AuthClient, admin: dict[str, str]
) -> None:
    client_id, secret = _new_client(seeded, admin)
    path = f"/api/1/admin/clients/{client_id}"
    assert seeded.token(CC, headers=basic(client_id, secret)).status_code == 200  # now remembered

    assert seeded.token(CC, headers=basic(client_id, "not-" + secret)).status_code == 401

    changed = seeded.http.patch(path, json={"grant_types": ["refresh_token"]}, headers=admin)
    assert changed.status_code == 200, changed.text
    refused = seeded.token(CC, headers=basic(client_id, secret))
    assert refused.status_code == 400
    assert refused.json()["error"] == "unauthorized_client"

    assert seeded.http.delete(path, headers=admin).status_code == 204
    gone = seeded.token(CC, headers=basic(client_id, secret))
    assert gone.status_code == 401
    assert gone.json()["error"] == "invalid_client"


@pytest.fixture
def other_replica(make_settings: SettingsFactory, request: pytest.FixtureRequest) -> Iterator[AuthClient]:
    """A second auth service on the same database, with the TTL the test names."""
    with serving(make_settings(client_cache_ttl=request.param)) as replica:
        yield replica


@pytest.mark.parametrize("other_replica", [0.6], indirect=True)
def test_other_replicas_follow_within_the_ttl(
    seeded: AuthClient, other_replica: AuthClient, admin: dict[str, str]
) -> None:
    client_id, secret = _new_client(seeded, admin)
    assert other_replica.token(CC, headers=basic(client_id, secret)).status_code == 200  # remembered there

    rotated = seeded.http.post(f"/api/1/admin/clients/{client_id}/secret", headers=admin)
    assert rotated.status_code == 201, rotated.text
    new_secret = rotated.json()["client_secret"]
    assert seeded.token(CC, headers=basic(client_id, secret)).status_code == 401

    deadline = time.monotonic() + 0.6 + 2.0
    while other_replica.token(CC, headers=basic(client_id, secret)).status_code == 200:
        assert time.monotonic() < deadline, "the other replica kept the old secret past its TTL"
        time.sleep(0.05)
    assert other_replica.token(CC, headers=basic(client_id, new_secret)).status_code == 200


@pytest.mark.parametrize("other_replica", [0], indirect=True)
def test_a_ttl_of_zero_reads_every_change_at_once(
    seeded: AuthClient, other_replica: AuthClient, admin: dict[str, str]
) -> None:
    client_id, secret = _new_client(seeded, admin)
    assert other_replica.token(CC, headers=basic(client_id, secret)).status_code == 200
    assert seeded.http.delete(f"/api/1/admin/clients/{client_id}", headers=admin).status_code == 204
    assert other_replica.token(CC, headers=basic(client_id, secret)).status_code == 401


def test_requests_that_miss_the_same_client_at_once_share_one_read(seeded: AuthClient) -> None:
    """When a busy client's entry expires, every request in flight misses it at the same moment:
    one row read serves them all, instead of one per request taking every pooled connection."""
    client = seeded.create_client(
        client_name="busy", grant_types=["client_credentials"], scope="customers:read"
    )
    directory = ClientDirectory(seeded.services.pool, ttl=5)
    waiting_reads = """
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM oauth_clients%'
    """

    async def misses_at_once() -> tuple[int, list[ClientRecord | None]]:
        pool = seeded.services.pool
        async with pool.acquire() as locker, pool.acquire() as observer:
            async with locker.transaction():  # the reads wait behind this lock, all in flight at once
                await locker.execute("LOCK TABLE oauth_clients IN ACCESS EXCLUSIVE MODE")
                gets = [asyncio.create_task(directory.get(client.client_id)) for _ in range(6)]
                for _ in range(100):
                    await asyncio.sleep(0.02)
                    if await observer.fetchval(waiting_reads):
                        break
                await asyncio.sleep(0.2)  # time for any other read to reach the lock too
                waiting = int(await observer.fetchval(waiting_reads))
            return waiting, list(await asyncio.gather(*gets))

    waiting, records = seeded.call(misses_at_once)
    assert waiting == 1, "one read for all six requests"
    assert [r.client_id if r else None for r in records] == [client.client_id] * 6
