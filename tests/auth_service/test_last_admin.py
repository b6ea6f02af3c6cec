"""The last-admin rule on every path, serialised in the database.

"Some active account holds every admin scope" must survive role updates (scope changes included),
role deletion, disabling, deletion and role removal or replacement, also when two admins act at
the same moment. The app runs on this test's event loop (httpx over ASGI) so two requests can
truly be in flight together; the test can hold the administration lock itself to prove both wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar

from auth_service.app import app_for
from auth_service.audit.service import Actor
from auth_service.errors import LastAdmin
from auth_service.powers.repository import ADMINISTRATION_LOCK
from auth_service.powers.service import ADMIN_SCOPES, OPERATOR_ID
from auth_service.roles.schemas import RoleCreate
from auth_service.users.schemas import User, UserCreate, UserUpdate
from auth_service.wiring import AuthServices, build_services
from tests.auth_service.conftest import SettingsFactory

OPERATOR = Actor(id=OPERATOR_ID)
PASSWORD = "a long and unusual passphrase"
ADMINS = """
SELECT u.email::text FROM users u WHERE u.status = 'active' AND $1::text[] <@ ARRAY(
    SELECT s FROM user_roles ur JOIN roles r ON r.id = ur.role_id CROSS JOIN unnest(r.scopes) s
    WHERE ur.user_id = u.id) ORDER BY 1
"""
WAITING_FOR_LOCK = """
SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


@dataclass(frozen=True)
class Running:
    services: AuthServices
    http: httpx.AsyncClient

    async def user(self, email: str, roles: list[str]) -> User:
        return await self.services.users.create(UserCreate(email, PASSWORD, roles), OPERATOR)

    async def bearer(self, email: str) -> dict[str, str]:
        """An access token for the auth service's own API (``resource=auth``)."""
        form = {
            "grant_type": "password",
            "client_id": "first-party",
            "username": email,
            "password": PASSWORD,
            "resource": "auth",
        }
        response = await self.http.post("/oauth/token", data=form)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def admins(self) -> list[str]:
        async with self.services.pool.acquire() as conn:
            return [r[0] for r in await conn.fetch(ADMINS, sorted(ADMIN_SCOPES))]


async def _lifespan(app: Litestar, started: asyncio.Event, stop: asyncio.Event) -> None:
    async with app.lifespan():
        started.set()
        await stop.wait()


@pytest.fixture
async def running(make_settings: SettingsFactory) -> AsyncIterator[Running]:
    services = build_services(make_settings())
    app = app_for(services)
    started, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(_lifespan(app, started, stop))
    await asyncio.wait_for(started.wait(), 30)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    client = httpx.AsyncClient(transport=transport, base_url="http://auth.test")
    try:
        yield Running(services, client)
    finally:
        await client.aclose()
        stop.set()
        await task


def as_user(user: User) -> Actor:
    return Actor(id=str(user.id))


def last_admin(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("/last-admin")
    return body


async def _until_waiting(conn: asyncpg.Connection, count: int) -> None:
    for _ in range(200):
        if await conn.fetchval(WAITING_FOR_LOCK) == count:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"expected {count} transactions waiting on the administration lock")


async def test_two_admins_disabling_each_other_at_once_exactly_one_wins(
    running: Running, auth_db: str
) -> None:
    a = await running.user("a@example.com", ["admin"])
    b = await running.user("b@example.com", ["admin"])
    as_a, as_b = await running.bearer(a.email), await running.bearer(b.email)
    held = await asyncpg.connect(auth_db)
    try:
        await held.execute("SELECT pg_advisory_lock($1)", ADMINISTRATION_LOCK)
        first = asyncio.create_task(running.http.post(f"/api/1/admin/users/{b.id}/disable", headers=as_a))
        second = asyncio.create_task(running.http.post(f"/api/1/admin/users/{a.id}/disable", headers=as_b))
        await _until_waiting(held, 2)  # both requests are inside their transactions, at the lock
        await held.execute("SELECT pg_advisory_unlock($1)", ADMINISTRATION_LOCK)
        responses = await asyncio.gather(first, second)
    finally:
        await held.close()
    assert sorted(r.status_code for r in responses) == [201, 409]
    last_admin(next(r for r in responses if r.status_code == 409))
    winner = next(r for r in responses if r.status_code == 201).json()
    assert winner["status"] == "disabled"
    assert await running.admins() == sorted({a.email, b.email} - {winner["email"]})


async def test_concurrent_disables_through_the_services_always_leave_one_admin(running: Running) -> None:
    survivor = await running.user("first@example.com", ["admin"])
    for round_ in range(5):
        rival = await running.user(f"rival{round_}@example.com", ["admin"])
        users = running.services.users
        outcomes = await asyncio.gather(
            users.update(rival.id, UserUpdate(status="disabled"), as_user(survivor)),
            users.update(survivor.id, UserUpdate(status="disabled"), as_user(rival)),
            return_exceptions=True,
        )
        assert sum(isinstance(o, User) for o in outcomes) == 1, outcomes
        assert sum(isinstance(o, LastAdmin) for o in outcomes) == 1, outcomes
        if isinstance(outcomes[1], User):
            survivor = rival
        assert await running.admins() == [survivor.email]


async def test_role_patch_removing_admin_scopes_from_the_last_admin_role_is_409(running: Running) -> None:
    await running.user("root@example.com", ["admin"])
    as_root = await running.bearer("root@example.com")
    before = (await running.http.get("/api/1/admin/roles/admin", headers=as_root)).json()
    assert set(before["scopes"]) >= ADMIN_SCOPES
    last_admin(
        await running.http.patch(
            "/api/1/admin/roles/admin", json={"scopes": ["customers:read"]}, headers=as_root
        )
    )
    still = (await running.http.get("/api/1/admin/roles/admin", headers=as_root)).json()
    assert still["scopes"] == before["scopes"]
    assert await running.admins() == ["root@example.com"]
    # Once someone else can administer everything through another role, the same change is fine.
    await running.services.roles.create(RoleCreate("root", sorted(ADMIN_SCOPES)), OPERATOR)
    await running.user("other@example.com", ["root"])
    narrowed = await running.http.patch(
        "/api/1/admin/roles/admin", json={"scopes": ["customers:read"]}, headers=as_root
    )
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scopes"] == ["customers:read"]
    assert await running.admins() == ["other@example.com"]


async def test_no_path_removes_the_last_admin(running: Running) -> None:
    root = await running.user("root@example.com", ["admin"])
    disabled = await running.user("disabled@example.com", ["admin"])
    await running.services.users.update(disabled.id, UserUpdate(status="disabled"), OPERATOR)
    as_root = await running.bearer(root.email)
    path = f"/api/1/admin/users/{root.id}"
    http = running.http
    last_admin(await http.post(f"{path}/disable", headers=as_root))
    last_admin(await http.patch(path, json={"status": "disabled"}, headers=as_root))
    last_admin(await http.patch(path, json={"roles": ["agent"]}, headers=as_root))
    last_admin(await http.delete(f"{path}/roles/admin", headers=as_root))
    last_admin(await http.delete(path, headers=as_root))
    held = await http.delete("/api/1/admin/roles/admin", headers=as_root)
    assert held.status_code == 409
    assert held.json()["type"].endswith("/role-in-use")
    # Nothing changed, the operator included: not even the operator may break the rule.
    with pytest.raises(LastAdmin):
        await running.services.users.delete(root.id, OPERATOR)
    me = await http.get("/api/1/users/me", headers=as_root)  # the session survived every refusal
    assert me.status_code == 200
    assert me.json()["roles"] == ["admin"]
    assert await running.admins() == [root.email]


async def test_demoting_one_of_two_admins_is_fine_then_the_rule_holds(running: Running) -> None:
    root = await running.user("root@example.com", ["admin"])
    other = await running.user("other@example.com", ["admin"])
    as_root = await running.bearer(root.email)
    demoted = await running.http.patch(
        f"/api/1/admin/users/{other.id}", json={"roles": ["agent"]}, headers=as_root
    )
    assert demoted.status_code == 200, demoted.text
    assert demoted.json()["roles"] == ["agent"]
    last_admin(
        await running.http.patch(f"/api/1/admin/users/{root.id}", json={"roles": ["viewer"]}, headers=as_root)
    )


async def test_a_server_without_an_admin_still_changes_other_accounts(running: Running) -> None:
    """Only a change that breaks the rule is refused: before bootstrap, nothing to break."""
    agent = await running.user("agent@example.com", ["agent"])
    disabled = await running.services.users.update(agent.id, UserUpdate(status="disabled"), OPERATOR)
    assert disabled.status == "disabled"
    await running.services.users.delete(agent.id, OPERATOR)
    assert await running.admins() == []
