"""Oversized and hostile input on every kind of endpoint: 400/413/431 (RFC 6749 JSON on the OAuth
endpoints, problem+json elsewhere), never a 500; a megabyte password never reaches argon2; email
variants (case, Unicode normalisation) name one account."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from litestar.testing import TestClient

from auth_service.app import create_app
from tests.auth_service.conftest import (
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AuthClient,
    SettingsFactory,
    basic,
    serving,
)
from tests.auth_service.test_token_grants import assert_oauth_error, claims_of, password_form

MEGABYTE_PASSWORD = "correct horse " * 75_000  # 1.05 MB
STRONG = "a perfectly fine new passphrase"


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


# ---------------------------------------------------------------- OAuth forms and tokens
def test_oauth_forms_are_bounded(seeded: AuthClient) -> None:
    too_many = {**password_form(), **{f"extra{n}": "x" for n in range(40)}}
    assert_oauth_error(seeded.token(too_many), 400, "invalid_request")
    assert_oauth_error(seeded.token(password_form(scope="x" * 8193)), 400, "invalid_request")
    assert_oauth_error(seeded.token({**password_form(), "y" * 9000: "1"}), 400, "invalid_request")
    assert seeded.token(password_form(unknown_parameter="ignored")).status_code == 200


@pytest.mark.parametrize("endpoint", ["/oauth/revoke", "/oauth/introspect"])
def test_an_oversized_token_is_refused_unread(seeded: AuthClient, endpoint: str) -> None:
    client = seeded.create_client(client_name="resource server", scope="customers:read")
    headers = basic(client.client_id, client.client_secret or "")
    huge = ".".join(["eyJ" + "A" * 4000] * 3)  # JWT-shaped, 12 KB
    assert_oauth_error(
        seeded.http.post(endpoint, data={"token": huge}, headers=headers), 400, "invalid_request"
    )
    normal = seeded.http.post(endpoint, data={"token": "A" * 43}, headers=headers)
    assert normal.status_code == 200


# ---------------------------------------------------------------- transport limits
def test_oversized_headers_are_431(seeded: AuthClient) -> None:
    padding = {"x-padding": "p" * 17_000}
    assert_problem(seeded.token(password_form(), headers=padding), 431)
    assert_problem(seeded.http.get("/api/1/users/me", headers=padding), 431)
    assert seeded.token(password_form(), headers={"x-padding": "p" * 4000}).status_code == 200


def test_oversized_bodies_are_413(seeded: AuthClient) -> None:
    assert_problem(seeded.token(password_form(password=MEGABYTE_PASSWORD)), 413)
    assert_problem(
        seeded.http.post("/api/1/users/", json={"email": "a@example.com", "password": "x" * 70_000}), 413
    )


HOSTILE_JSON = {
    "deep arrays": b'{"email": "a@example.com", "password": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
    "deep objects": b'{"nested": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_000 + b', "email": "a@example.com"}',
    "invalid UTF-8": b'{"email": "a\xff\xfe@example.com", "password": "correct horse battery staple"}',
    "truncated": b'{"email": "a@example.com", "password": "unterminated',
    "huge number": b'{"email": 1e999999, "password": null}',
    "NUL bytes": b'{"email": "a\\u0000b@example.com", "password": "' + b"\\u0000" * 100 + b'"}',
    "duplicate keys": b'{"email": "a@example.com", "email": "b@example.com", "password": "x"}',
    "byte order mark": b"\xef\xbb\xbf{}",
    "array": b"[]",
    "empty": b"",
    "long strings": b'{"email": "' + b"a" * 40_000 + b'@example.com", "password": "x"}',
}


def test_hostile_json_is_a_client_error_never_a_500(make_settings: SettingsFactory) -> None:
    answers: dict[str, tuple[int, str]] = {}
    with TestClient(create_app(make_settings(registration_enabled=True))) as client:
        for name, body in HOSTILE_JSON.items():
            response = client.post(
                "/api/1/users/", content=body, headers={"content-type": "application/json"}
            )
            answers[name] = (response.status_code, response.headers["content-type"])
    refused = {name: answer for name, answer in answers.items() if answer[0] not in (400, 422)}
    assert refused == {}
    assert {content_type for _, content_type in answers.values()} == {"application/problem+json"}


# ---------------------------------------------------------------- a megabyte password
def test_a_megabyte_password_is_refused_before_any_hashing(make_settings: SettingsFactory) -> None:
    """With argon2 made slow on purpose, one real verification is the yardstick: the megabyte
    password (let through the body limit here) must be refused in a fraction of that time."""
    settings = make_settings(
        argon2_memory_kib=19456,
        argon2_time_cost=24,
        max_body_bytes=4 * 1024 * 1024,
        registration_enabled=True,
    )
    with serving(settings) as auth:
        client = auth.http
        auth.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        session = auth.admin_login(AGENT_EMAIL, AGENT_PASSWORD)

        def fastest(send: Callable[[], httpx.Response], status: int) -> float:
            times = []
            for _ in range(2):
                started = time.perf_counter()
                assert send().status_code == status
                times.append(time.perf_counter() - started)
            return min(times)

        one_hash = fastest(lambda: auth.token(password_form(password="a wrong guess, hashed")), 400)
        login = fastest(lambda: auth.token(password_form(password=MEGABYTE_PASSWORD)), 400)
        change = fastest(
            lambda: client.post(
                "/api/1/users/me/password",
                json={"current_password": MEGABYTE_PASSWORD, "new_password": STRONG},
                headers=auth.bearer(session["access_token"]),
            ),
            400,
        )
        registration = fastest(
            lambda: client.post(
                "/api/1/users/", json={"email": "big@example.com", "password": MEGABYTE_PASSWORD}
            ),
            400,
        )
    assert one_hash > 0.05, one_hash  # the yardstick really hashed
    assert max(login, change, registration) < one_hash / 3, (login, change, registration, one_hash)


# ---------------------------------------------------------------- one account per mailbox
def test_case_and_unicode_variants_of_an_email_are_one_account(make_settings: SettingsFactory) -> None:
    composed = "José.Núñez@Example.com"  # NFC: é and ñ as single code points
    decomposed = "JOSE\u0301.NU\u0301N\u0303EZ@EXAMPLE.COM"  # NFD, upper case
    full_width = "ｊｏｓé.ｎúñｅｚ@example.com"  # compatibility forms NFKC folds
    with serving(make_settings(registration_enabled=True)) as auth:
        client = auth.http
        created = client.post("/api/1/users/", json={"email": composed, "password": STRONG})
        assert created.status_code == 201, created.text
        for variant in (decomposed, full_width, composed.lower(), composed.upper()):
            again = client.post("/api/1/users/", json={"email": variant, "password": STRONG})
            assert_problem(again, 409)
            token = auth.login(variant, STRONG)["access_token"]
            assert claims_of(token)["sub"] == created.json()["id"]
