"""The auth service's Lambda function and its scheduled function, invoked with API Gateway HTTP
API events and EventBridge events on real PostgreSQL and Redis: the token endpoint, discovery and
JWKS, revocations published before the invocation returns, and key rotation done by the schedule
(the API function reloads the result); our tokens pass API Gateway's JWT authorizer rules."""

from __future__ import annotations

import asyncio
import base64
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

import asyncpg
import jwt
import msgspec
import pytest
from redis.asyncio import Redis

from auth_service.clients.schemas import ClientCreate, ClientWithSecret
from auth_service.lambda_handler import build_handler
from auth_service.lambda_schedule import handler as schedule_handler
from auth_service.settings import ENV_PREFIX, AuthSettings
from auth_service.users.schemas import UserCreate
from auth_service.wiring import AuthServices, build_services
from shared.auth.revocation_events import stream_key
from shared.lambda_runtime import LambdaApp
from shared.settings import env_name, settings_from_values
from tests.auth_service.conftest import FAST_ARGON2, SYSTEM, new_kek
from tests.mail_server import MailServer, link_in
from tests.serverless.apigw_jwt_rules import failures
from tests.serverless.conftest import EnvironmentFactory
from tests.serverless.lambda_events import LambdaEnvironment, LambdaResponse, http_event, scheduled_event
from tests.shared.auth.token_factory import SigningKey, claims

ISSUER = "https://id.example.com"
CUSTOMER_SCOPES = "customers:read customers:write"
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def settings(auth_db: str, redis_url: str, stream_prefix: str) -> AuthSettings:
    """As the template sets them: RS256 (the authorizer's only algorithm family), a pool of one or
    two, no in-service purge; the keyring reloads at every invocation here (10 s in the template)."""
    values: dict[str, Any] = {
        "database_url": auth_db,
        "redis_url": redis_url,
        "redis_prefix": stream_prefix,
        "key_encryption_key": new_kek(),
        "issuer": ISSUER,
        "signing_alg": "RS256",
        "db_pool_min": 1,
        "db_pool_max": 2,
        "purge_interval": 0,
        "key_refresh_interval": 0.001,
        "key_prepublish_seconds": 10800,
        **FAST_ARGON2,
    }
    return settings_from_values(AuthSettings, values, ENV_PREFIX)


class AuthFunction:
    def __init__(self, environment: LambdaEnvironment, app: LambdaApp, services: AuthServices) -> None:
        self.environment, self.app, self.services = environment, app, services

    def invoke(self, event: dict[str, Any]) -> LambdaResponse:
        return self.environment.invoke(event)

    def get_json(self, url: str) -> Any:
        """A GET by URL, as API Gateway's authorizer or a verifier fetches discovery and JWKS."""
        answer = self.invoke(http_event("GET", urlsplit(url).path))
        assert answer.status == 200, answer.body
        return answer.json()

    def client(self, scope: str) -> ClientWithSecret:
        data = ClientCreate(client_name="lambda test", scope=scope)
        created: ClientWithSecret = self.environment.run(
            lambda: self.app.run(self.services.clients.create(data, SYSTEM))
        )
        return created

    def token(self, client: ClientWithSecret) -> dict[str, Any]:
        basic = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
        headers = {**FORM, "authorization": f"Basic {basic}"}
        event = http_event(
            "POST", "/oauth/token", headers=headers, body=urlencode({"grant_type": "client_credentials"})
        )
        answer = self.invoke(event)
        assert answer.status == 200, answer.body
        body: dict[str, Any] = answer.json()
        return body


@pytest.fixture
def auth(environments: EnvironmentFactory, settings: AuthSettings) -> AuthFunction:
    built: dict[str, Any] = {}

    def build() -> LambdaApp:
        built["services"] = build_services(settings)
        built["app"] = app = build_handler(built["services"])
        return app

    environment = environments(build)
    assert environment.invoke(http_event("GET", "/healthz")).status == 200  # start-up: the first key
    return AuthFunction(environment, built["app"], built["services"])


def test_token_endpoint_discovery_and_jwks(auth: AuthFunction) -> None:
    discovery = auth.invoke(http_event("GET", "/.well-known/openid-configuration"))
    assert discovery.status == 200
    metadata = discovery.json()
    assert metadata["issuer"] == ISSUER
    assert metadata["jwks_uri"].startswith(ISSUER + "/")
    keys = auth.get_json(metadata["jwks_uri"])["keys"]
    assert [key["alg"] for key in keys] == ["RS256"]

    issued = auth.token(auth.client(CUSTOMER_SCOPES))
    assert issued["token_type"].lower() == "bearer"
    header = jwt.get_unverified_header(issued["access_token"])
    assert header["kid"] == keys[0]["kid"]
    assert jwt.decode(issued["access_token"], options={"verify_signature": False})["aud"] == "customers"


def test_our_tokens_pass_the_jwt_authorizer_rules(auth: AuthFunction) -> None:
    token = auth.token(auth.client(CUSTOMER_SCOPES))["access_token"]
    rules: dict[str, Any] = {"issuer": ISSUER, "audiences": ["customers"], "fetch": auth.get_json}
    assert failures(f"Bearer {token}", route_scopes=["customers:read"], **rules) == []
    assert failures(token, route_scopes=["customers:write"], **rules) == []
    # The same rules refuse what the template must not let through, so passing means something.
    assert failures(token, route_scopes=["customers:delete"], **rules) == ["no scope of the route"]
    assert failures(token, route_scopes=[], **{**rules, "audiences": ["billing"]}) == [
        "neither aud nor client_id matches an audience"
    ]
    edwards = SigningKey.generate("EdDSA").sign(claims(iss=ISSUER))
    assert failures(edwards, route_scopes=[], **rules) == ["algorithm EdDSA is not RSA-based"]


def _stream(redis_url: str, prefix: str) -> list[dict[bytes, bytes]]:
    async def read() -> list[dict[bytes, bytes]]:
        redis = Redis.from_url(redis_url)
        try:
            entries: Any = await redis.xrange(stream_key(prefix))
            return [fields for _, fields in entries]
        finally:
            await redis.aclose()

    return asyncio.run(read())


def test_a_revocation_is_on_the_stream_when_the_invocation_returns(
    auth: AuthFunction, redis_url: str, stream_prefix: str
) -> None:
    client = auth.client(CUSTOMER_SCOPES)
    token = auth.token(client)["access_token"]
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    basic = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
    headers = {**FORM, "authorization": f"Basic {basic}"}
    revoked = auth.invoke(
        http_event("POST", "/oauth/revoke", headers=headers, body=urlencode({"token": token}))
    )
    assert revoked.status == 200
    assert {b"kind": b"jti", b"value": jti.encode()}.items() <= next(
        fields for fields in _stream(redis_url, stream_prefix) if fields[b"value"] == jti.encode()
    ).items()
    assert auth.environment.run(auth.app.background_tasks) == set()


def _environment(settings: AuthSettings) -> dict[str, str]:
    """The schedule function's environment: every setting as its AUTH_* variable."""
    values: dict[str, str] = {}

    def walk(struct: msgspec.Struct) -> None:
        for field in msgspec.structs.fields(type(struct)):
            value = getattr(struct, field.name)
            if isinstance(value, msgspec.Struct):
                walk(value)
                continue
            text = (
                ",".join(value)
                if isinstance(value, list)
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
            values[env_name(ENV_PREFIX, field.name)] = text

    walk(settings)
    return values


def _schedule(task: str, environ: dict[str, str]) -> dict[str, Any]:
    """Invoked on a thread of its own, as Lambda runs it (``asyncio.run`` inside)."""
    result: list[dict[str, Any]] = []
    LambdaEnvironment(lambda event, context: {}).run(
        lambda: result.append(schedule_handler(scheduled_event(task), None, environ))
    )
    return result[0]


def _jwks_kids(auth: AuthFunction) -> list[str]:
    return sorted(key["kid"] for key in auth.get_json(ISSUER + "/.well-known/jwks.json")["keys"])


def test_scheduled_rotation_and_purge(auth: AuthFunction, settings: AuthSettings, auth_db: str) -> None:
    # A rotation interval no longer than the publication period: a rotation is due at once.
    environ = {**_environment(settings), "AUTH_KEY_ROTATION_INTERVAL": "10800"}
    first = _jwks_kids(auth)
    step = _schedule("rotate-keys", environ)
    assert step["task"] == "rotate-keys"
    assert step["active"] == first[0]
    assert step["created"] is not None
    assert _jwks_kids(auth) == sorted([*first, step["created"]])  # published at once, not signing yet

    def signed_by() -> str:
        token = auth.token(auth.client("customers:read"))["access_token"]
        return str(jwt.get_unverified_header(token)["kid"])

    assert signed_by() == first[0]

    async def publication_over() -> None:
        conn = await asyncpg.connect(auth_db)
        try:
            await conn.execute("UPDATE signing_keys SET activate_at = now() WHERE state = 'next'")
        finally:
            await conn.close()

    asyncio.run(publication_over())
    promoted = _schedule("rotate-keys", environ)
    assert promoted["active"] == step["created"]  # (and, the interval being that short, the next one begins)
    assert signed_by() == step["created"]

    purged = _schedule("purge", environ)
    assert purged["task"] == "purge"
    assert {"refresh_tokens", "sessions", "audit_events", "revocations_published"} <= purged.keys()
    with pytest.raises(ValueError, match="unknown task"):
        schedule_handler({"task": "nap"}, None, environ)


def test_the_key_encryption_key_never_needs_to_be_in_the_environment(settings: AuthSettings) -> None:
    from auth_service.lambda_handler import KEK_SECRET_ENV, lambda_settings

    environ = {name: value for name, value in _environment(settings).items() if "KEY_ENCRYPTION" not in name}
    assert KEK_SECRET_ENV not in environ
    assert lambda_settings(environ).keys.key_encryption_key == ""  # nothing named, nothing fetched
    assert secrets.compare_digest(
        lambda_settings(_environment(settings)).keys.key_encryption_key, settings.keys.key_encryption_key
    )


def test_the_schedule_delivers_the_mail_the_api_function_queued(
    auth: AuthFunction, settings: AuthSettings
) -> None:
    """The API function only queues mail (its loop is stopped); ``deliver-mail`` sends it."""
    data = UserCreate(email="new.person@example.com", password="a passphrase for the lambda test")
    auth.environment.run(lambda: auth.app.run(auth.services.users.register(data, SYSTEM)))
    server = MailServer().start()
    try:
        environ = {
            **_environment(settings), "AUTH_SMTP_HOST": server.host, "AUTH_SMTP_PORT": str(server.port),
            "AUTH_SMTP_SECURITY": "none",
        }  # fmt: skip
        sent = _schedule("deliver-mail", environ)
        assert sent["task"] == "deliver-mail"
        assert sent["mail_handled"] == 1
        (received,) = server.wait_for(1)
        assert received.rcpt_tos == ["new.person@example.com"]
        assert link_in(received, "/email/verify").startswith(ISSUER + "/email/verify?token=")
        assert _schedule("deliver-mail", environ)["mail_handled"] == 0  # sent once
    finally:
        server.stop()
