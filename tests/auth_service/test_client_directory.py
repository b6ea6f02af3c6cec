"""OAuth clients are read through a short-lived per-replica cache (``AUTH_CLIENT_CACHE_TTL``).

What a client app sees: a change made through the admin API applies at once on the replica that
made it, and within the TTL on every other replica; the secret is checked on every request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

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
