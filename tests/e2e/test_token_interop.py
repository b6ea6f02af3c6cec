"""Our access tokens verify with independent libraries, configured only from discovery and the JWKS.

The real auth service runs as a process. A user's token (password grant) and a service's token
(``client_credentials``) for the customer API are checked by authlib's RFC 9068 validator,
joserfc, PyJWT's ``PyJWKClient`` and node ``jose``'s ``jwtVerify``, each given nothing but the
issuer URL (and what discovery names there). Each library also refuses the same token for another
audience, so a library that checked nothing could not pass this test.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from authlib.oauth2.rfc6750.errors import InvalidTokenError  # type: ignore[import-untyped]
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator  # type: ignore[import-untyped]
from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from devstack.databases import create_database, drop_database
from tests.ecosystem import auth_environment, bootstrap_admin
from tests.node_packages import npm_package_home
from tests.processes import ServiceProcess

pytestmark = pytest.mark.e2e

ADMIN = ("interop.tokens@example.com", "interoperable tokens passphrase")
AUDIENCE = "customers"
OTHER_AUDIENCE = "auth"
NODE_JOSE = "6.2.18"
Claims = dict[str, Any]


@pytest.fixture(scope="module")
def issuer(
    pg_server_url: str,
    auth_template: str,
    redis_url: str,
    redis_namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    name = f"interop_{os.getpid()}"
    database = asyncio.run(create_database(pg_server_url, name, template=auth_template))
    env = auth_environment(
        database,
        redis_url,
        f"{redis_namespace}:interop:",
        AUTH_ARGON2_MEMORY_KIB="1024",
        AUTH_ARGON2_TIME_COST="1",
        AUTH_BOOTSTRAP_ADMIN_EMAIL=ADMIN[0],
        AUTH_BOOTSTRAP_ADMIN_PASSWORD=ADMIN[1],
    )
    bootstrap_admin(env)
    process = ServiceProcess("auth_service", env, tmp_path_factory.mktemp("interop")).start()
    try:
        yield process.url
    finally:
        process.stop()
        asyncio.run(drop_database(pg_server_url, name))


def discovered(issuer: str) -> Claims:
    metadata: Claims = httpx.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["issuer"] == issuer
    return metadata


@pytest.fixture(scope="module")
def tokens(issuer: str) -> dict[str, str]:
    """A user's and a service's access token for the customer API, from the discovered endpoint."""
    endpoint = discovered(issuer)["token_endpoint"]
    password = {
        "grant_type": "password",
        "client_id": "first-party",
        "username": ADMIN[0],
        "password": ADMIN[1],
    }
    user = httpx.post(endpoint, data={**password, "resource": AUDIENCE}, timeout=30)
    assert user.status_code == 200, user.text
    admin = httpx.post(endpoint, data={**password, "resource": OTHER_AUDIENCE}, timeout=30)
    assert admin.status_code == 200, admin.text
    client = httpx.post(
        f"{issuer}/api/1/admin/clients/",
        json={
            "client_name": "interop reports",
            "grant_types": ["client_credentials"],
            "scope": "customers:read",
        },
        headers={"Authorization": f"Bearer {admin.json()['access_token']}"},
        timeout=30,
    )
    assert client.status_code == 201, client.text
    registered = client.json()
    service = httpx.post(
        endpoint,
        data={"grant_type": "client_credentials", "resource": AUDIENCE},
        auth=(registered["client_id"], registered["client_secret"]),
        timeout=30,
    )
    assert service.status_code == 200, service.text
    return {
        "user": user.json()["access_token"],
        "client": service.json()["access_token"],
        "client_id": registered["client_id"],
    }


# ----------------------------------------------------------------- one verifier per library
def verify_with_authlib(issuer: str, token: str, audience: str) -> Claims:
    metadata = discovered(issuer)
    keys = KeySet.import_key_set(httpx.get(metadata["jwks_uri"], timeout=10).json())

    class Validator(JWTBearerTokenValidator):  # type: ignore[misc]
        def get_jwks(self) -> KeySet:
            return keys

    validator = Validator(issuer=metadata["issuer"], resource_server=audience)
    claims = validator.authenticate_token(token)
    validator.validate_token(claims, scopes=["customers:read"], request=None)
    return dict(claims)


def verify_with_joserfc(issuer: str, token: str, audience: str) -> Claims:
    metadata = discovered(issuer)
    keys = KeySet.import_key_set(httpx.get(metadata["jwks_uri"], timeout=10).json())
    verified = jose_jwt.decode(token, keys, algorithms=metadata["access_token_signing_alg_values_supported"])
    assert verified.header["typ"] == "at+jwt"
    jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": audience},
        sub={"essential": True},
        client_id={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        jti={"essential": True},
    ).validate(verified.claims)
    return dict(verified.claims)


def verify_with_pyjwt(issuer: str, token: str, audience: str) -> Claims:
    metadata = discovered(issuer)
    key = jwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(token)
    verified = jwt.api_jwt.decode_complete(
        token,
        key,
        algorithms=metadata["access_token_signing_alg_values_supported"],
        audience=audience,
        issuer=metadata["issuer"],
        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]},
    )
    if verified["header"].get("typ") != "at+jwt":  # PyJWT leaves typ to its caller (RFC 8725 §3.11)
        raise jwt.InvalidTokenError(f"typ {verified['header'].get('typ')!r}")
    return dict(verified["payload"])


_NODE_VERIFY = """\
import { createRemoteJWKSet, jwtVerify } from "jose";
const [issuer, token, audience] = process.argv.slice(2);
const metadata = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
const keys = createRemoteJWKSet(new URL(metadata.jwks_uri));
try {
  const { payload } = await jwtVerify(token, keys, {
    typ: "at+jwt",
    issuer: metadata.issuer,
    audience,
    algorithms: metadata.access_token_signing_alg_values_supported,
  });
  console.log(JSON.stringify(payload));
} catch (error) {
  console.error(`${error.code}: ${error.message}`);
  process.exit(3);
}
"""


class NodeRefused(Exception):
    """node jose's jwtVerify refused the token."""


def node_jose() -> Path:
    """A directory with npm ``jose`` installed, kept between runs outside the repository."""
    home = npm_package_home("jose", NODE_JOSE)
    (home / "verify.mjs").write_text(_NODE_VERIFY)
    return home


def verify_with_node_jose(issuer: str, token: str, audience: str) -> Claims:
    home = node_jose()
    done = subprocess.run(
        ["node", str(home / "verify.mjs"), issuer, token, audience],
        cwd=home,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode == 3:
        raise NodeRefused(done.stderr.strip())
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


Verifier = Callable[[str, str, str], Claims]
VERIFIERS: dict[str, tuple[Verifier, tuple[type[Exception], ...]]] = {
    "authlib-rfc9068": (verify_with_authlib, (InvalidTokenError,)),
    "joserfc": (verify_with_joserfc, (JoseError,)),
    "pyjwt-pyjwkclient": (verify_with_pyjwt, (jwt.InvalidTokenError,)),
    "node-jose": (verify_with_node_jose, (NodeRefused,)),
}


@pytest.mark.parametrize("library", list(VERIFIERS))
def test_a_users_token_verifies_for_its_audience_only(
    library: str, issuer: str, tokens: dict[str, str]
) -> None:
    verify, refused = VERIFIERS[library]
    claims = verify(issuer, tokens["user"], AUDIENCE)
    assert claims["aud"] == AUDIENCE  # one resource asked for: a string (RFC 9068 §2.2)
    assert claims["iss"] == issuer
    assert claims["client_id"] == "first-party"
    assert "customers:read" in claims["scope"].split()
    assert not [scope for scope in claims["scope"].split() if scope.startswith("admin:")], "auth's scopes"
    assert claims["roles"] == ["admin"]
    with pytest.raises(refused):
        verify(issuer, tokens["user"], OTHER_AUDIENCE)


@pytest.mark.parametrize("library", list(VERIFIERS))
def test_a_services_token_verifies_for_its_audience_only(
    library: str, issuer: str, tokens: dict[str, str]
) -> None:
    verify, refused = VERIFIERS[library]
    claims = verify(issuer, tokens["client"], AUDIENCE)
    assert claims["aud"] == AUDIENCE
    assert claims["sub"] == claims["client_id"] == tokens["client_id"]  # RFC 9068 §5: a client's own sub
    assert claims["scope"] == "customers:read"
    assert "roles" not in claims, "an empty roles claim is omitted, not []"
    with pytest.raises(refused):
        verify(issuer, tokens["client"], OTHER_AUDIENCE)


def test_discovery_names_what_the_verifiers_used(issuer: str) -> None:
    metadata = discovered(issuer)
    keys = httpx.get(metadata["jwks_uri"], timeout=10).json()["keys"]
    assert keys
    assert all(key.get("kid") and key.get("alg") for key in keys)
    assert {key["alg"] for key in keys} <= set(metadata["access_token_signing_alg_values_supported"])
