"""``FreshCodes``: a code kept by the authorization endpoint is given to its own client once, and
only for as long as a code can live; anything else is left to the database (``test_code_grant``)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from auth_service.tokens.codes import NewCode
from auth_service.tokens.fresh_codes import FreshCodes
from auth_service.users.repository import UserRecord

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def person() -> UserRecord:
    return UserRecord(
        id=uuid4(), email="p@example.com", password_hash="x", status="active", created_at=NOW,
        updated_at=NOW, last_login_at=None, password_changed_at=NOW, email_verified=True, name=None,
        given_name=None, family_name=None, locale=None, roles=["viewer"], scopes=["customers:read"],
    )  # fmt: skip


def code(client_id: str = "app") -> NewCode:
    return NewCode(
        client_id=client_id, user_id=uuid4(), browser_session_id=uuid4(), redirect_uri="https://app/cb",
        scopes=["openid", "customers:read"], resources=["customers"], code_challenge="c" * 43, nonce="n",
        auth_time=1, amr=["pwd"], acr="1",
    )  # fmt: skip


def test_a_kept_code_is_given_once_to_its_client_with_what_was_written() -> None:
    fresh, made, who = FreshCodes(), code(), person()
    fresh.keep(b"d" * 32, made, who)
    taken = fresh.take(b"d" * 32, "app")
    assert taken is not None
    assert taken.user == who
    assert (taken.code.scope, taken.code.redirect_uri, taken.code.nonce) == (
        "openid customers:read", "https://app/cb", "n"
    )  # fmt: skip
    assert fresh.take(b"d" * 32, "app") is None  # the second presentation goes to the database


def test_another_client_gets_nothing_and_the_code_is_left_to_the_database() -> None:
    fresh = FreshCodes()
    fresh.keep(b"d" * 32, code("app"), person())
    assert fresh.take(b"d" * 32, "other") is None
    assert fresh.take(b"d" * 32, "app") is None  # read back from PostgreSQL, which decides


def test_codes_are_kept_no_longer_than_a_code_lives_and_no_more_than_the_bound() -> None:
    now = [0.0]
    fresh = FreshCodes(60, max_codes=2, timer=lambda: now[0])
    fresh.keep(b"a" * 32, code(), person())
    now[0] = 61
    assert fresh.take(b"a" * 32, "app") is None
    for key in (b"b" * 32, b"c" * 32, b"e" * 32):
        fresh.keep(key, code(), person())
    assert fresh.take(b"b" * 32, "app") is None  # the oldest made room
    assert fresh.take(b"e" * 32, "app") is not None
