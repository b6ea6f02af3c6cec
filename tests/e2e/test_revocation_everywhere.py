"""With default settings, every way of stopping a token reaches every customer-service replica.

Real processes: one auth service and two customer-service replicas on one Redis. Each case takes
a token that both replicas accept, does what an operator or a user would do, and waits (bounded)
for both replicas to refuse it with 401 — nothing here calls the auth service per request, the
replicas learn it from the revocation stream. How fast is measured by
``bench/revocation_propagation.py``; here only that it happens, within seconds.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from devstack.embedded import EmbeddedRedis
from tests.conftest import EcosystemStarter
from tests.ecosystem import Ecosystem

pytestmark = pytest.mark.e2e

PASSWORD = "a viewer's passphrase, long enough"
DEADLINE = 10.0


@pytest.fixture(scope="module")
def system(start_ecosystem: EcosystemStarter) -> Iterator[Ecosystem]:
    with start_ecosystem(
        "revocation",
        customer_replicas=2,
    ) as ecosystem:
        yield ecosystem


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _status(replica_url: str, token: str) -> int:
    answer = httpx.get(
        replica_url + "/api/1/customers", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}
    )
    return answer.status_code


def _refused_everywhere(system: Ecosystem, token: str) -> float:
    """Seconds until every replica answers 401 (fails the test after ``DEADLINE``)."""
    started = time.monotonic()
    pending = {replica.url for replica in system.replicas}
    while pending and time.monotonic() - started < DEADLINE:
        pending = {url for url in pending if _status(url, token) != 401}
        if pending:
            time.sleep(0.02)
    assert not pending, f"still accepted after {DEADLINE} s by {sorted(pending)}"
    return time.monotonic() - started


def _admin(system: Ecosystem, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {system.admin_token()}"}
    return httpx.request(
        method, system.auth.url + "/api/1/admin" + path, headers=headers, timeout=30, **kwargs
    )


def _viewer(system: Ecosystem) -> tuple[str, str, dict[str, Any]]:
    """A new viewer, a login of theirs (access and refresh token), accepted by both replicas."""
    email = f"viewer-{uuid.uuid4().hex[:8]}@example.com"
    user = system.create_user(email, PASSWORD, ["viewer"])
    login = httpx.post(
        system.auth.url + "/oauth/token",
        data={"grant_type": "password", "client_id": "first-party", "username": email, "password": PASSWORD},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    body = login.json()
    for replica in system.replicas:
        assert _status(replica.url, body["access_token"]) == 200
    return body["access_token"], body.get("refresh_token", ""), user


def _disable(system: Ecosystem, token: str, refresh: str, user: dict[str, Any]) -> None:
    assert _admin(system, "POST", f"/users/{user['id']}/disable").status_code in (200, 201, 204)


def _revoke_session(system: Ecosystem, token: str, refresh: str, user: dict[str, Any]) -> None:
    assert _admin(system, "DELETE", f"/sessions/{_claims(token)['sid']}").status_code == 204


def _oauth_revoke(system: Ecosystem, token: str, refresh: str, user: dict[str, Any]) -> None:
    answer = httpx.post(
        system.auth.url + "/oauth/revoke", data={"token": token, "client_id": "first-party"}, timeout=30
    )
    assert answer.status_code == 200, answer.text


def _oauth_revoke_refresh(system: Ecosystem, token: str, refresh: str, user: dict[str, Any]) -> None:
    answer = httpx.post(
        system.auth.url + "/oauth/revoke", data={"token": refresh, "client_id": "first-party"}, timeout=30
    )
    assert answer.status_code == 200, answer.text


def _password_reset(system: Ecosystem, token: str, refresh: str, user: dict[str, Any]) -> None:
    answer = _admin(system, "POST", f"/users/{user['id']}/password", json={"password": PASSWORD + " anew"})
    assert answer.status_code in (200, 204), answer.text


def _revoke_key(system: Ecosystem, token: str, refresh: str, user: dict[str, Any]) -> None:
    kid = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]
    answer = _admin(system, "POST", f"/keys/{kid}/revoke")
    assert answer.status_code == 200, answer.text
    assert answer.json()["active"] != kid


Action = Callable[[Ecosystem, str, str, dict[str, Any]], None]
ACTIONS: dict[str, Action] = {
    "disable user": _disable,
    "admin revokes the session": _revoke_session,
    "/oauth/revoke of the access token": _oauth_revoke,
    "/oauth/revoke of the refresh token": _oauth_revoke_refresh,
    "admin resets the password": _password_reset,
    "emergency key revocation": _revoke_key,  # last: it changes the signing key for the rest
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_the_token_is_refused_by_every_replica(system: Ecosystem, action: str) -> None:
    token, refresh, user = _viewer(system)
    ACTIONS[action](system, token, refresh, user)
    seconds = _refused_everywhere(system, token)
    print(f"\n{action}: refused by {len(system.replicas)} replicas after {seconds:.3f} s")


def test_a_token_issued_after_a_key_revocation_is_accepted(system: Ecosystem) -> None:
    """Runs after the key revocation above: the new key signs, and the replicas trust it."""
    token, _, _ = _viewer(system)
    for replica in system.replicas:
        assert _status(replica.url, token) == 200


def test_a_revocation_made_while_redis_is_down_reaches_the_replicas_when_it_is_back(
    start_ecosystem: EcosystemStarter, own_redis: EmbeddedRedis
) -> None:
    """End to end, on a Redis of the test's own: while it is down the revocation is still accepted
    (recorded in PostgreSQL); Redis comes back empty, the auth service publishes what it missed, and
    both replicas refuse the token — nothing revoked in the outage is lost."""
    with start_ecosystem(
        "outage",
        redis=own_redis.url,
        customer_replicas=2,
        auth_extra={"AUTH_THROTTLE_FAIL_MODE": "open"},  # logins go on without Redis
    ) as ecosystem:
        token, _, _ = _viewer(ecosystem)
        own_redis.kill()
        answer = httpx.post(
            ecosystem.auth.url + "/oauth/revoke",
            data={"token": token, "client_id": "first-party"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        own_redis.start()  # empty: the stream is gone with everything it held
        seconds = _refused_everywhere(ecosystem, token)
        print(f"\nrevoked during the outage: refused by both replicas {seconds:.2f} s after Redis returned")
