"""Hostile tokens against the real customer service process: every one is 401 (or 403), never 500.

The issuer here is a local HTTP server publishing metadata and a JWKS, so the customer service
discovers and caches keys exactly as it does against the auth service. Each attack is one test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from tests.conftest import customer_revocation_env
from tests.processes import ServiceProcess
from tests.shared.auth.jwks_server import JwksServer
from tests.shared.auth.token_factory import AUDIENCE, SigningKey, claims, jwks, login_claims

pytestmark = pytest.mark.e2e

RSA = SigningKey.generate("RS256", kid="rsa-1")
EC = SigningKey.generate("ES256", kid="ec-1")
STRANGER = SigningKey.generate("RS256", kid="rsa-1")
CPF = "52998224725"  # valid check digits; absent from the empty database
PATH = f"/api/1/customers/{CPF}"


@pytest.fixture(scope="module")
def issuer() -> Iterator[JwksServer]:
    server = JwksServer()
    server.jwks = jwks(RSA, EC)
    with server.running():
        yield server


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[JwksServer]:
    """Where jku/x5u headers point: it must never be asked for anything."""
    server = JwksServer()
    server.jwks = jwks(STRANGER)
    with server.running():
        yield server


@pytest.fixture(scope="module")
def service(
    issuer: JwksServer,
    customer_template: str,
    pg_server_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    redis_url: str,
    redis_namespace: str,
) -> Iterator[ServiceProcess]:
    import asyncio

    from devstack.databases import create_database, drop_database

    name = f"attacks_{int(time.time() * 1000)}"
    url = asyncio.run(create_database(pg_server_url, name, template=customer_template))
    process = ServiceProcess(
        "customer_service",
        {
            "CUSTOMER_DATABASE_URL": url,
            "CUSTOMER_ISSUER": issuer.url,
            "CUSTOMER_AUDIENCE": AUDIENCE,
            **customer_revocation_env(redis_url, redis_namespace, "attacks"),
        },
        Path(tmp_path_factory.mktemp("logs")),
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()
        asyncio.run(drop_database(pg_server_url, name))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"signature") -> str:
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)])


def call(
    service: ServiceProcess, token: str | None, headers: list[tuple[str, str]] | None = None
) -> httpx.Response:
    sent = list(headers or [])
    if token is not None:
        sent.append(("Authorization", f"Bearer {token}"))
    return httpx.get(service.url + PATH, headers=sent, timeout=10)


def assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer realm="), challenge
    assert 'error="invalid_token"' in challenge
    assert "error_description=" in challenge
    assert response.headers["content-type"] == "application/problem+json"


def test_valid_token_passes_authentication(service: ServiceProcess) -> None:
    assert call(service, RSA.sign(claims(iss=_issuer(service)))).status_code == 404


def _issuer(service: ServiceProcess) -> str:
    return service.env["CUSTOMER_ISSUER"]


def test_no_token_is_401_without_error(service: ServiceProcess) -> None:
    response = call(service, None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer realm=")
    assert "error=" not in response.headers["www-authenticate"]


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none(service: ServiceProcess, alg: str) -> None:
    assert_invalid_token(
        call(service, forge({"alg": alg, "typ": "at+jwt", "kid": "rsa-1"}, claims(iss=_issuer(service)), b""))
    )


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize("key", [RSA, EC], ids=["rsa-public-key", "ec-public-key"])
def test_hmac_signed_with_the_public_key(service: ServiceProcess, alg: str, key: SigningKey) -> None:
    pem = key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    unsigned = forge({"alg": alg, "typ": "at+jwt", "kid": key.kid}, claims(iss=_issuer(service))).rsplit(
        ".", 1
    )[0]
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    assert_invalid_token(
        call(service, f"{unsigned}.{b64(hmac.new(pem, unsigned.encode(), digest).digest())}")
    )


def test_signature_stripped(service: ServiceProcess) -> None:
    head, body, _ = RSA.sign(claims(iss=_issuer(service))).split(".")
    assert_invalid_token(call(service, f"{head}.{body}."))


def test_signature_of_another_key(service: ServiceProcess) -> None:
    assert_invalid_token(call(service, STRANGER.sign(claims(iss=_issuer(service)))))


@pytest.mark.parametrize("kid", ["unknown", "../../../../etc/passwd", "1' OR '1'='1", "k" * 10_240])
def test_hostile_kid(service: ServiceProcess, kid: str) -> None:
    assert_invalid_token(call(service, RSA.sign(claims(iss=_issuer(service)), headers={"kid": kid})))


@pytest.mark.parametrize("header", ["jku", "x5u"])
def test_remote_key_headers_are_never_fetched(
    service: ServiceProcess, elsewhere: JwksServer, header: str
) -> None:
    token = STRANGER.sign(claims(iss=_issuer(service)), headers={header: elsewhere.url + "/jwks.json"})
    assert_invalid_token(call(service, token))
    assert elsewhere.jwks_requests == 0


def test_embedded_jwk_header_is_not_trusted(service: ServiceProcess) -> None:
    token = STRANGER.sign(claims(iss=_issuer(service)), headers={"jwk": STRANGER.public_jwk()})
    assert_invalid_token(call(service, token))


def test_unknown_crit_extension(service: ServiceProcess) -> None:
    token = RSA.sign(
        claims(iss=_issuer(service)), headers={"crit": ["urn:example:ext"], "urn:example:ext": 1}
    )
    assert_invalid_token(call(service, token))


@pytest.mark.parametrize("typ", ["JWT", "at+JWT+x", "", None])
def test_wrong_or_missing_typ(service: ServiceProcess, typ: str | None) -> None:
    assert_invalid_token(call(service, RSA.sign(claims(iss=_issuer(service)), headers={"typ": typ})))


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 3600},
        {"nbf": int(time.time()) + 3600},
        {"iat": int(time.time()) + 3600},
        {"exp": None},
        {"sub": None},
        {"aud": None},
        {"aud": "billing"},
        {"iss": "http://another-issuer.test"},
    ],
    ids=[
        "expired",
        "not-yet-valid",
        "issued-in-future",
        "no-exp",
        "no-sub",
        "no-aud",
        "other-audience",
        "other-issuer",
    ],
)
def test_claims(service: ServiceProcess, overrides: dict[str, Any]) -> None:
    assert_invalid_token(call(service, RSA.sign(claims(**{"iss": _issuer(service), **overrides}))))


def test_duplicate_keys_in_header(service: ServiceProcess) -> None:
    good = RSA.sign(claims(iss=_issuer(service)))
    header = b64(b'{"alg":"RS256","typ":"at+jwt","kid":"rsa-1","kid":"ec-1"}')
    assert_invalid_token(call(service, f"{header}.{good.split('.', 1)[1]}"))


def test_duplicate_keys_in_claims(service: ServiceProcess) -> None:
    payload = json.dumps(claims(iss=_issuer(service)))[:-1] + ', "sub": "admin"}'
    token = jwt.api_jws.encode(
        payload.encode(), RSA.private, algorithm="RS256", headers={"kid": "rsa-1", "typ": "at+jwt"}
    )
    assert_invalid_token(call(service, token))


@pytest.mark.parametrize(
    "token",
    ["abc", "a.b", "a.b.c.d", "e30.e30.e30.e30", "bm90IGpzb24.e30.c2ln", "%%%.^^^.&&&", "eyJhbGciOi.J9.x"],
    ids=[
        "one-segment",
        "two-segments",
        "four-segments",
        "four-json",
        "non-json",
        "non-base64url",
        "truncated",
    ],
)
def test_malformed(service: ServiceProcess, token: str) -> None:
    response = call(service, token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_huge_token(service: ServiceProcess) -> None:
    big = RSA.sign(claims(iss=_issuer(service), padding="x" * 9000))
    response = call(service, big)
    assert response.status_code in (401, 431)
    assert response.status_code != 500


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (
            "bearer {t}",
            404,
        ),  # the scheme is case-insensitive (RFC 7235 §2.1): authenticated, no such customer
        ("BEARER {t}", 404),
        ("Bearer  {t}", 401),
        ("Bearer\t{t}", 401),
        ("Bearer {t},{t}", 401),
        ("Token {t}", 401),
        ("{t}", 401),
    ],
)
def test_scheme_casing_and_whitespace(service: ServiceProcess, authorization: str, status: int) -> None:
    token = RSA.sign(claims(iss=_issuer(service)))
    response = httpx.get(
        service.url + PATH, headers={"Authorization": authorization.format(t=token)}, timeout=10
    )
    assert response.status_code == status, response.text
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer realm=")


def test_token_in_query_string_is_rejected(service: ServiceProcess) -> None:
    token = RSA.sign(claims(iss=_issuer(service)))
    response = httpx.get(service.url + PATH, params={"access_token": token}, timeout=10)
    assert response.status_code == 401


def test_two_authorization_headers(service: ServiceProcess) -> None:
    token = RSA.sign(claims(iss=_issuer(service)))
    assert_invalid_token(call(service, token, headers=[("Authorization", f"Bearer {token}")]))


def test_missing_scope_is_403(service: ServiceProcess) -> None:
    response = httpx.delete(
        service.url + PATH,
        timeout=10,
        headers={"Authorization": f"Bearer {RSA.sign(claims(iss=_issuer(service)))}"},
    )
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="customers:delete"' in challenge


@pytest.mark.parametrize(
    "login",
    [login_claims(mfa=False), {}, {"sub": "batch-job", "client_id": "batch-job"}],
    ids=["password-only", "no-login-claims", "client-for-itself"],
)
def test_step_up_bypass_on_delete_is_401(service: ServiceProcess, login: dict[str, Any]) -> None:
    """A token with customers:delete but no second factor behind it: the RFC 9470 challenge."""
    token = RSA.sign(claims(iss=_issuer(service), scope="customers:delete", **login))
    response = httpx.delete(service.url + PATH, timeout=10, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert challenge.endswith('acr_values="2"')
    assert response.headers["content-type"] == "application/problem+json"
    mfa = RSA.sign(claims(iss=_issuer(service), scope="customers:delete", **login_claims(mfa=True)))
    passed = httpx.delete(service.url + PATH, timeout=10, headers={"Authorization": f"Bearer {mfa}"})
    assert passed.status_code == 404  # past the step-up; no customer has this CPF
