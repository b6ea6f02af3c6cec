"""Signing keys: sealed at rest, published before signing, kept until their tokens expire, shared;
the key-encryption key rotated (previous KEKs open, the newest seals, ``reseal`` moves them all)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import jwt
import pytest

from auth_service.keys.material import generate_private_key, private_key_der
from auth_service.keys.sealing import KeyEncryptionKey, KeyEncryptionKeyError
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    SYSTEM,
    AuthClient,
    SettingsFactory,
    new_kek,
    serving,
)

FAST_ROTATION: dict[str, Any] = {"jwks_max_age": 1, "key_prepublish_seconds": 1, "key_refresh_interval": 0.2}


def test_sealed_key_opens_only_with_its_kek_and_row() -> None:
    kek = KeyEncryptionKey.from_text(new_kek())
    der = private_key_der(generate_private_key("ES256"))
    sealed = kek.seal(der, b"signing-key:k1:ES256")
    assert der not in sealed
    assert kek.open(sealed, b"signing-key:k1:ES256") == der
    with pytest.raises(KeyEncryptionKeyError):
        kek.open(sealed, b"signing-key:k2:ES256")
    with pytest.raises(KeyEncryptionKeyError):
        KeyEncryptionKey.from_text(new_kek()).open(sealed, b"signing-key:k1:ES256")


@pytest.mark.parametrize("text", ["", "short", "not base64 at all!!"])
def test_a_malformed_kek_is_refused(text: str) -> None:
    with pytest.raises(KeyEncryptionKeyError):
        KeyEncryptionKey.from_text(text)


def test_private_keys_are_encrypted_in_the_database(auth: AuthClient, auth_db: str) -> None:
    async def rows() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(auth_db)
        try:
            return list(
                await conn.fetch("SELECT state, private_key, public_jwk::text AS jwk FROM signing_keys")
            )
        finally:
            await conn.close()

    stored = auth.call(rows)
    assert [r["state"] for r in stored] == ["active"]
    assert b"\x30\x82" not in stored[0]["private_key"][:16]  # not a DER SEQUENCE in clear
    assert '"d"' not in stored[0]["jwk"]


def test_jwks_is_public_cacheable_and_answers_304(auth: AuthClient) -> None:
    response = auth.http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert key["kty"] == "RSA"
    assert key["alg"] == "RS256"
    assert key["use"] == "sig"
    assert key["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi", "key_ops"} & key.keys()
    again = auth.http.get("/.well-known/jwks.json", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(("alg", "kty"), [("ES256", "EC"), ("EdDSA", "OKP")])
def test_other_algorithms_sign_verifiable_tokens(make_settings: SettingsFactory, alg: str, kty: str) -> None:
    with serving(make_settings(signing_alg=alg)) as auth:
        client = auth.http
        auth.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        token = auth.admin_login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]
        jwk = client.get("/.well-known/jwks.json").json()["keys"][0]
        assert jwk["kty"] == kty
        key = jwt.PyJWK(jwk).key
        claims = jwt.decode(token, key, algorithms=[alg], audience="auth", issuer="http://auth.test")
        assert claims["roles"] == ["agent"]
        assert client.get("/api/1/users/me", headers=auth.bearer(token)).status_code == 200


@pytest.fixture
def rotating(make_settings: SettingsFactory) -> Iterator[AuthClient]:
    with serving(make_settings(**FAST_ROTATION)) as auth:
        auth.create_user(ADMIN_EMAIL, ADMIN_PASSWORD, ["admin"])
        yield auth


def kids(auth: AuthClient) -> list[str]:
    return sorted(k["kid"] for k in auth.http.get("/.well-known/jwks.json").json()["keys"])


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_rotation_publishes_first_signs_later_and_old_tokens_keep_working(
    rotating: AuthClient, auth_db: str
) -> None:
    before = rotating.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)
    old_kid = kid_of(before["access_token"])
    rotated = rotating.http.post("/api/1/admin/keys/rotate", headers=rotating.bearer(before["access_token"]))
    assert rotated.status_code == 202, rotated.text
    new_kid = rotated.json()["pending"]
    assert rotated.json()["active"] == old_kid
    assert kids(rotating) == sorted([old_kid, new_kid])  # published at once...
    assert (
        kid_of(rotating.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]) == old_kid
    )  # ...not signing yet

    wait_for(lambda: kid_of(rotating.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]) == new_kid)
    states = {
        k["kid"]: k["state"]
        for k in rotating.http.get(
            "/api/1/admin/keys/", headers=rotating.bearer(before["access_token"])
        ).json()
    }
    assert states == {old_kid: "retired", new_kid: "active"}
    # a token signed before the rotation still verifies, here and for any JWKS reader
    me = rotating.http.get("/api/1/users/me", headers=rotating.bearer(before["access_token"]))
    assert me.status_code == 200
    assert old_kid in kids(rotating)

    async def past_retention() -> None:
        conn = await asyncpg.connect(auth_db)
        try:
            await conn.execute("UPDATE signing_keys SET remove_at = now() WHERE state = 'retired'")
        finally:
            await conn.close()

    rotating.call(past_retention)
    wait_for(lambda: kids(rotating) == [new_kid])


def test_replicas_agree_on_the_active_key(make_settings: SettingsFactory) -> None:
    settings = make_settings(**FAST_ROTATION)
    with serving(settings) as first, serving(settings) as second:
        one = first.http
        first.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        assert kids(first) == kids(second)
        assert kid_of(first.login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]) == kid_of(
            second.login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]
        )
        outcome = first.call(first.services.signing_keys.rotate, SYSTEM)
        wait_for(lambda: kid_of(second.login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]) == outcome.pending)
        wait_for(lambda: kid_of(first.login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]) == outcome.pending)
        token = second.admin_login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]
        assert one.get("/api/1/users/me", headers=first.bearer(token)).status_code == 200


def test_scheduled_rotation_creates_the_next_key(make_settings: SettingsFactory) -> None:
    settings = make_settings(**FAST_ROTATION, key_rotation_interval=2)
    with serving(settings) as auth:
        first = kids(auth)
        wait_for(lambda: len(kids(auth)) == 2)  # the next key is published a second before it is due
        assert set(first) < set(kids(auth))


# ---------------------------------------------------------------- KEK rotation


def test_previous_keks_open_and_only_the_newest_seals() -> None:
    old, new = new_kek(), new_kek()
    der = private_key_der(generate_private_key("ES256"))
    sealed_by_old = KeyEncryptionKey.from_text(old).seal(der, b"signing-key:k1:ES256")
    rotated = KeyEncryptionKey.from_settings(new, "", previous=[old])
    assert rotated.open(sealed_by_old, b"signing-key:k1:ES256") == der
    resealed, was_previous = rotated.reseal(sealed_by_old, b"signing-key:k1:ES256")
    assert was_previous is True
    assert KeyEncryptionKey.from_text(new).open(resealed, b"signing-key:k1:ES256") == der
    with pytest.raises(KeyEncryptionKeyError):
        KeyEncryptionKey.from_text(old).open(resealed, b"signing-key:k1:ES256")  # the newest sealed it
    assert rotated.reseal(resealed, b"signing-key:k1:ES256")[1] is False
    with pytest.raises(KeyEncryptionKeyError, match="AUTH_PREVIOUS_KEY_ENCRYPTION_KEYS"):
        KeyEncryptionKey.from_settings(new, "").open(sealed_by_old, b"signing-key:k1:ES256")
    with pytest.raises(KeyEncryptionKeyError):  # a previous KEK still checks the associated data
        rotated.open(sealed_by_old, b"signing-key:k2:ES256")


def test_previous_keks_come_from_one_comma_separated_setting() -> None:
    from auth_service.settings import settings_from_env

    one, two = new_kek(), new_kek()
    settings = settings_from_env({"AUTH_PREVIOUS_KEY_ENCRYPTION_KEYS": f"{one},{two}"})
    assert settings.keys.previous_key_encryption_keys == [one, two]
    assert settings_from_env({}).keys.previous_key_encryption_keys == []
    with pytest.raises(KeyEncryptionKeyError, match="entry 2 of AUTH_PREVIOUS_KEY_ENCRYPTION_KEYS"):
        KeyEncryptionKey.from_settings(new_kek(), "", previous=[one, "short"])


def test_keys_sealed_with_a_kek_no_longer_configured_are_a_clear_error_not_a_crash(
    make_settings: SettingsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    old, new = new_kek(), new_kek()
    with serving(make_settings(key_encryption_key=old)) as before:
        kid = kids(before)[0]
    with serving(make_settings(key_encryption_key=new)) as wrong:  # starts...
        assert wrong.http.get("/readyz").status_code == 503  # ...but takes no traffic
        wrong.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        refused = wrong.token(
            {"grant_type": "password", "client_id": "first-party"}
            | {"username": AGENT_EMAIL, "password": AGENT_PASSWORD}
        )
        assert refused.status_code == 503
        assert kids(wrong) == [kid]  # publishing needs no private key
    messages = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any(
        f"active signing key {kid} does not open" in m and "AUTH_PREVIOUS_KEY_ENCRYPTION_KEYS" in m
        for m in messages
    ), messages
    with serving(make_settings(key_encryption_key=new, previous_key_encryption_keys=[old])) as rotated:
        assert kid_of(rotated.admin_login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]) == kid


def test_reseal_moves_every_key_to_the_newest_kek_then_the_old_one_can_go(
    make_settings: SettingsFactory, auth_db: str
) -> None:
    old, new = new_kek(), new_kek()
    with serving(make_settings(key_encryption_key=old)) as before:
        keys = before.services.signing_keys
        before.call(keys.rotate, SYSTEM)  # an active and a next key...
        revoked = before.call(keys.rotate, SYSTEM).pending
        before.call(keys.revoke, revoked, SYSTEM)  # ...and a revoked one, never opened again
        before.call(keys.rotate, SYSTEM)
        stored = sorted(kids(before))
    assert len(stored) == 2
    with serving(make_settings(key_encryption_key=new, previous_key_encryption_keys=[old])) as rotated:
        outcome = rotated.call(rotated.services.signing_keys.reseal, SYSTEM)
        assert (outcome.resealed, outcome.from_previous) == (2, 2)
        again = rotated.call(rotated.services.signing_keys.reseal, SYSTEM)
        assert (again.resealed, again.from_previous) == (2, 0)

        async def audited() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(auth_db)
            try:
                return list(
                    await conn.fetch("SELECT actor, details FROM audit_events WHERE action = 'key.reseal'")
                )
            finally:
                await conn.close()

        rows = rotated.call(audited)
    assert [r["actor"] for r in rows] == ["operator", "operator"]
    with serving(make_settings(key_encryption_key=new)) as after:  # the old KEK removed
        assert after.http.get("/readyz").status_code == 200
        after.create_user(AGENT_EMAIL, AGENT_PASSWORD, ["agent"])
        token = after.admin_login(AGENT_EMAIL, AGENT_PASSWORD)["access_token"]
        assert sorted(kids(after)) == stored
        assert after.http.get("/api/1/users/me", headers=after.bearer(token)).status_code == 200
    stale = make_settings(key_encryption_key=old)  # a replica left on the old KEK
    with serving(stale) as auth, pytest.raises(KeyEncryptionKeyError, match="nothing was resealed"):
        auth.call(auth.services.signing_keys.reseal, SYSTEM)
    with serving(make_settings(key_encryption_key=new)) as after:
        assert after.http.get("/readyz").status_code == 200
