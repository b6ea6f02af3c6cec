"""A served auth service whose second factors read a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AuthClient,
    SettingsFactory,
)
from tests.auth_service.factors.steps import Clock, serving_with_clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(make_settings: SettingsFactory, clock: Clock) -> Iterator[AuthClient]:
    """An admin (role ``admin``: a second factor required) and an agent (none required)."""
    with serving_with_clock(make_settings(second_factor_lockout_threshold=3), clock) as auth:
        auth.create_user(ADMIN_EMAIL, ADMIN_PASSWORD, ["admin"])
        auth.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        yield auth
