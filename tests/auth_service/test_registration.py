"""The self-service rules without HTTP: what is checked first, what is counted, which role is given.

A closed registration must answer 403 without counting the attempt (so it never turns into 429),
and a client's token must be refused before its "user" is counted; both used to be the controller's
order and are now the service's, so they are pinned here on fakes.
"""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID, uuid4

import pytest

from auth_service.audit.service import Actor
from auth_service.errors import NotAUser, RegistrationDisabled
from auth_service.users.schemas import PasswordChange, Registration, UserCreate
from auth_service.users.self_service import SelfService
from auth_service.users.service import UserService


class CountingLimiter:
    def __init__(self) -> None:
        self.subjects: list[str] = []

    async def hit(self, subject: str) -> None:
        self.subjects.append(subject)


class RecordingUsers:
    def __init__(self) -> None:
        self.created: list[tuple[UserCreate, Actor, str]] = []
        self.password_changes: list[tuple[Any, ...]] = []

    async def create(self, data: UserCreate, actor: Actor, *, action: str = "user.create") -> str:
        self.created.append((data, actor, action))
        return "created"

    async def register(self, data: UserCreate, actor: Actor) -> str:
        return await self.create(data, actor, action="user.register")

    async def change_password(self, *args: Any) -> None:
        self.password_changes.append(args)


def accounts(*, enabled: bool) -> tuple[SelfService, RecordingUsers, CountingLimiter, CountingLimiter]:
    users, registrations, password_changes = RecordingUsers(), CountingLimiter(), CountingLimiter()
    service = SelfService(
        cast(UserService, users),
        registration_enabled=enabled,
        registrations=registrations,
        password_changes=password_changes,
    )
    return service, users, registrations, password_changes


async def test_closed_registration_is_refused_before_it_is_counted() -> None:
    service, users, registrations, _ = accounts(enabled=False)
    with pytest.raises(RegistrationDisabled):
        await service.register(Registration(email="me@example.com", password="x" * 20), "192.0.2.7")
    assert registrations.subjects == []
    assert users.created == []


async def test_open_registration_counts_the_address_and_gives_only_viewer() -> None:
    service, users, registrations, _ = accounts(enabled=True)
    await service.register(Registration(email="me@example.com", password="x" * 20), "2001:db8::1")
    assert registrations.subjects == ["2001:db8::/64"]
    ((data, actor, action),) = users.created
    assert (data.email, data.roles, action) == ("me@example.com", ["viewer"], "user.register")
    assert actor == Actor(id=None, source_ip="2001:db8::1")


async def test_a_client_token_has_no_password_to_change_and_is_not_counted() -> None:
    service, users, _, password_changes = accounts(enabled=True)
    change = PasswordChange(current_password="old enough passphrase", new_password="a new passphrase")
    with pytest.raises(NotAUser):
        await service.change_password("some-client", change, Actor(id="some-client"), None)
    assert password_changes.subjects == []
    user_id, session = uuid4(), uuid4()
    await service.change_password(str(user_id), change, Actor(id=str(user_id)), session)
    assert password_changes.subjects == [str(user_id)]
    assert users.password_changes == [
        (UUID(str(user_id)), change.current_password, change.new_password, Actor(id=str(user_id)), session)
    ]
