"""Passwords: the NIST policy, argon2id rehash on parameter change, enumeration resistance."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import asyncpg
import pytest

from auth_service.passwords.policy import PasswordPolicy, PasswordRejected
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AuthClient,
    SettingsFactory,
    serving,
)
from tests.auth_service.test_token_grants import assert_oauth_error, password_form

POLICY = PasswordPolicy(min_length=12, max_length=128, min_strength=3)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "at least 12"),
        ("x" * 129, "at most 128"),
        ("x" * 1_000_000, "at most 128"),
        ("password1234", "too easy to guess"),
        ("qwertyuiopasdfgh", "too easy to guess"),
        ("aaaaaaaaaaaaaaaa", "too easy to guess"),
        ("jane.doe-is-the-best-2024", "name part"),
        ("JANE.DOE rules the world", "name part"),
    ],
)
async def test_policy_rejects(password: str, reason: str) -> None:
    with pytest.raises(PasswordRejected, match=reason):
        await POLICY.check(password, "jane.doe@example.com")


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "Ünïcödé pässwörd ✓ 🔐 ok",
        "日本語のパスワードは大丈夫です",
        "x7#Lq!v9@Rz2",
    ],
)
async def test_policy_accepts_strong_and_any_unicode(password: str) -> None:
    assert await POLICY.check(password, "jane.doe@example.com")


async def test_policy_counts_characters_after_nfkc() -> None:
    """Eleven full-width letters are eleven characters, not 33 bytes: still too short."""
    with pytest.raises(PasswordRejected, match="at least 12"):
        await POLICY.check("".join(chr(0xFF41 + ord(c) - ord("a")) for c in "zqxjkvbwmpt"), "a@example.com")


def test_huge_password_is_refused_before_hashing(seeded: AuthClient) -> None:
    admin = seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)
    started = time.perf_counter()
    response = seeded.http.post(
        "/api/1/admin/users/",
        json={"email": "big@example.com", "password": "Ab1!" * 1000},
        headers=seeded.bearer(admin["access_token"]),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "at most 128" in response.json()["detail"]
    login = seeded.token(password_form(password="x" * 60_000))
    assert_oauth_error(login, 400, "invalid_request")  # over AUTH_OAUTH_MAX_PARAM_CHARS: not even read
    assert time.perf_counter() - started < 2


def test_weak_password_is_a_422_problem_naming_the_field(seeded: AuthClient) -> None:
    admin = seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)
    response = seeded.http.post(
        "/api/1/admin/users/",
        json={"email": "weak@example.com", "password": "password1234"},
        headers=seeded.bearer(admin["access_token"]),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["type"].endswith("/weak-password")
    assert body["errors"][0]["field"] == "password"


def test_password_is_rehashed_when_parameters_change(make_settings: SettingsFactory, auth_db: str) -> None:
    async def stored_hash() -> str:
        conn = await asyncpg.connect(auth_db)
        try:
            value: str = await conn.fetchval("SELECT password_hash FROM users WHERE email = $1", AGENT_EMAIL)
            return value
        finally:
            await conn.close()

    with serving(make_settings(argon2_memory_kib=64, argon2_time_cost=1)) as auth:
        auth.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        before = auth.call(stored_hash)
    assert "m=64,t=1,p=1" in before
    with serving(make_settings(argon2_memory_kib=128, argon2_time_cost=2)) as auth:
        auth.login(AGENT_EMAIL, AGENT_PASSWORD)
        after = auth.call(stored_hash)
        assert "m=128,t=2,p=1" in after
        auth.login(AGENT_EMAIL, AGENT_PASSWORD)  # the new hash verifies
        assert auth.call(stored_hash) == after  # and is not rehashed again


def test_wrong_password_and_unknown_user_look_the_same(seeded: AuthClient) -> None:
    wrong = seeded.token(password_form(password="definitely not it 123"))
    unknown = seeded.token(password_form(email="nobody.here@example.com"))
    malformed = seeded.token(password_form(email="not an email"))
    assert wrong.status_code == unknown.status_code == malformed.status_code == 400
    assert wrong.json() == unknown.json() == malformed.json()


@pytest.fixture
def real_cost_auth(make_settings: SettingsFactory) -> Iterator[AuthClient]:
    """The production defaults (argon2id m=19 MiB, t=2, p=1)."""
    settings = make_settings(
        argon2_memory_kib=19456,
        argon2_time_cost=2,
        argon2_parallelism=1,
        login_lockout_threshold=100,  # eleven wrong passwords in a row would lock the account
    )
    with serving(settings) as auth:
        auth.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        yield auth


def test_unknown_user_takes_as_long_as_wrong_password_at_real_cost(real_cost_auth: AuthClient) -> None:
    """Medians over interleaved samples, so machine noise hits both alike; they must be close."""

    def timed(form: dict[str, str]) -> float:
        started = time.perf_counter()
        response = real_cost_auth.token(form)
        assert response.status_code == 400
        return time.perf_counter() - started

    wrong, unknown = [], []
    for i in range(11):
        wrong.append(timed(password_form(password=f"wrong password number {i}")))
        unknown.append(
            timed(password_form(email=f"ghost{i}@example.com", password=f"wrong password number {i}"))
        )
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert min(wrong) > 0.005  # a real argon2 verify ran for the known account
    assert 0.67 < ratio < 1.5, (ratio, wrong, unknown)
