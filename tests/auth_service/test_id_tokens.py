"""ID tokens as a client checks them (PyJWT against our JWKS, authlib's at_hash), the claims each
scope releases, and ``id_token_hint`` verification (our key and issuer, any ``exp``)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest
from authlib.oidc.core.util import create_half_hash  # type: ignore[import-untyped]

from auth_service.oidc.claims import CLAIMS_SUPPORTED, standard_claims
from auth_service.oidc.id_tokens import IdTokenHints, IdTokenIssuer
from auth_service.users.repository import UserRecord, UserRepository
from auth_service.users.schemas import UserCreate, UserUpdate
from shared.auth.keys import PreparedKey, StaticKeySource
from tests.auth_service.conftest import SYSTEM, AuthClient, SettingsFactory, serving

ISSUER = "http://auth.test"
PASSWORD = "a long enough passphrase 42"


def jwks_key(auth: AuthClient, token: str) -> Any:
    kid = jwt.get_unverified_header(token)["kid"]
    keys = {k["kid"]: k for k in auth.http.get("/.well-known/jwks.json").json()["keys"]}
    return jwt.PyJWK(keys[kid]).key


def own_keys(auth: AuthClient) -> StaticKeySource:
    """The published keys, as ``wiring._signing_keys`` hands them to the service's own verifiers."""
    jwks = auth.http.get("/.well-known/jwks.json").json()["keys"]
    return StaticKeySource(PreparedKey.from_jwk(jwk) for jwk in jwks)


def record_of(auth: AuthClient, user_id: uuid.UUID) -> UserRecord:
    async def read() -> UserRecord:
        async with auth.services.pool.acquire() as conn:
            record = await UserRepository().by_id(conn, user_id)
        assert record is not None
        return record

    result: UserRecord = auth.call(read)
    return result


def profiled_user(auth: AuthClient) -> UserRecord:
    data = UserCreate(
        "ana@example.com", PASSWORD, [], email_verified=True, name="Ana Souza", given_name="Ana",
        family_name="Souza", locale="pt-BR",
    )  # fmt: skip
    user = auth.call(auth.services.users.create, data, SYSTEM)
    return record_of(auth, user.id)


def issuer_of(auth: AuthClient, **kwargs: Any) -> IdTokenIssuer:
    return IdTokenIssuer(auth.services.signing_keys.keyring, issuer=ISSUER, ttl=300, **kwargs)


def issue(issuer: IdTokenIssuer, user: UserRecord, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "user": user, "client_id": "shop", "scopes": ["openid", "profile", "email"],
        "auth_time": 1_700_000_000, "amr": ["pwd"], "acr": "1",
        "sid": "0b7e4b53-1d6c-4c8e-9a53-1c1c1c1c1c1c", "nonce": "n-0S6_WzA2Mj",
        "access_token": "an.access.token",
    }  # fmt: skip
    return issuer.issue(**{**fields, **overrides})


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_an_id_token_verifies_with_the_jwks_and_carries_what_oidc_core_asks(
    make_settings: SettingsFactory, alg: str
) -> None:
    with serving(make_settings(signing_alg=alg)) as auth:
        user = profiled_user(auth)
        before = int(time.time())
        token = issue(issuer_of(auth), user)
        header = jwt.get_unverified_header(token)
        assert (header["typ"], header["alg"]) == ("JWT", alg)
        claims = jwt.decode(token, jwks_key(auth, token), algorithms=[alg], audience="shop", issuer=ISSUER)
        assert claims["sub"] == str(user.id)
        assert (claims["aud"], claims["azp"]) == ("shop", "shop")
        assert before <= claims["iat"] <= int(time.time())
        assert claims["exp"] == claims["iat"] + 300
        assert (claims["auth_time"], claims["amr"], claims["acr"]) == (1_700_000_000, ["pwd"], "1")
        assert (claims["nonce"], claims["sid"]) == ("n-0S6_WzA2Mj", "0b7e4b53-1d6c-4c8e-9a53-1c1c1c1c1c1c")
        # at_hash as authlib's OIDC client computes it (SHA-512 for EdDSA, SHA-256 otherwise)
        assert claims["at_hash"] == create_half_hash("an.access.token", alg).decode()
        assert claims["email"] == "ana@example.com"
        assert claims["email_verified"] is True
        assert (claims["name"], claims["given_name"], claims["family_name"]) == ("Ana Souza", "Ana", "Souza")
        assert claims["locale"] == "pt-BR"
        assert claims["updated_at"] == int(user.updated_at.timestamp())
        assert set(claims) <= set(CLAIMS_SUPPORTED)
        # an ID token is never an access token, here or at any resource server
        me = auth.http.get("/api/1/users/me", headers=auth.bearer(token))
        assert me.status_code == 401


def test_claims_follow_the_scopes_and_absent_ones_are_omitted(auth: AuthClient) -> None:
    plain = auth.call(auth.services.users.create, UserCreate("bo@example.com", PASSWORD, []), SYSTEM)
    user = record_of(auth, plain.id)
    token = issue(issuer_of(auth), user, scopes=["openid"], nonce=None, sid=None, access_token=None)
    claims = jwt.decode(token, jwks_key(auth, token), algorithms=["RS256"], audience="shop", issuer=ISSUER)
    assert not {"nonce", "sid", "at_hash", "email", "name", "updated_at"} & set(claims)
    assert standard_claims(user, ["openid", "email"]) == {"email": "bo@example.com", "email_verified": False}
    assert standard_claims(user, ["profile"]) == {"updated_at": int(user.updated_at.timestamp())}


def test_an_admin_changing_the_email_unverifies_it_unless_said_otherwise(auth: AuthClient) -> None:
    user = profiled_user(auth)
    users = auth.services.users
    auth.call(users.update, user.id, UserUpdate(email="ana.souza@example.com"), SYSTEM)
    changed = record_of(auth, user.id)
    assert (changed.email, changed.email_verified, changed.name) == (
        "ana.souza@example.com",
        False,
        "Ana Souza",
    )
    auth.call(users.update, user.id, UserUpdate(email_verified=True, name=None, locale="en"), SYSTEM)
    again = record_of(auth, user.id)
    assert (again.email_verified, again.name, again.given_name, again.locale) == (True, None, "Ana", "en")


def test_an_id_token_hint_verifies_with_our_keys_and_issuer_even_expired(auth: AuthClient) -> None:
    user = profiled_user(auth)
    own = own_keys(auth)
    verify = IdTokenHints(own, issuer=ISSUER).verify_id_token_hint
    hint = verify(issue(issuer_of(auth), user))
    assert hint is not None
    assert (hint.sub, hint.aud, hint.sid) == (str(user.id), "shop", "0b7e4b53-1d6c-4c8e-9a53-1c1c1c1c1c1c")
    expired = issue(issuer_of(auth, clock=lambda: time.time() - 86400 * 30), user, sid=None)
    from_expired = verify(expired)
    assert from_expired is not None
    assert (from_expired.sub, from_expired.sid) == (str(user.id), None)
    assert IdTokenHints(own, issuer="http://other.test").verify_id_token_hint(expired) is None
    head, body, signature = expired.split(".")
    assert verify(f"{head}.{body}.{signature[:-4]}AAAA") is None  # signature altered
    forged_body = jwt.utils.base64url_encode(b'{"iss":"http://auth.test","sub":"x","aud":"shop"}').decode()
    assert verify(f"{head}.{forged_body}.{signature}") is None
    access_token = auth.services.signing_keys.keyring.signer.sign(
        {"iss": ISSUER, "sub": str(user.id), "aud": "shop"}
    )  # same key, typ at+jwt: an access token is not an ID token
    assert verify(access_token) is None
    for garbage in ["", "a.b", "a.b.c", "é.é.é", "x" * 20000, f"{head}.{body}", "..", f"{head}..{signature}"]:
        assert verify(garbage) is None
