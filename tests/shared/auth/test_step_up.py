"""Step-up per route (RFC 9470) through the Litestar middleware, with real signed tokens: what a
token whose login is too weak or too old gets, what passes, and a client's own token."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from litestar import Litestar, Router, get
from litestar.middleware import DefineMiddleware
from litestar.testing import TestClient

from shared.auth.keys import PreparedKey, StaticKeySource
from shared.auth.litestar import (
    BearerAuthMiddleware,
    check_scoped_routes_authenticated,
    requires_authentication,
    requires_mfa,
    requires_scopes,
    scoped_route,
)
from shared.auth.verifier import TokenVerifier
from shared.http.problems import problem_details_plugin
from tests.shared.auth.clock import ManualClock
from tests.shared.auth.token_factory import AUDIENCE, ISSUER, SigningKey, claims, login_claims

KEY = SigningKey.generate("ES256", kid="step-up")
LEEWAY = 30
MFA_ONLY = 'error_description="This needs a login with a second factor (multi-factor authentication).", '


@get("/mfa", **scoped_route("bearer", "customers:delete", opt=requires_mfa()), sync_to_thread=False)
def mfa() -> str:
    return "deleted"


@get("/recent", opt=requires_mfa(max_age=300), sync_to_thread=False)
def recent() -> str:
    return "recent"


@get("/max-age", opt=requires_authentication(max_age=60), sync_to_thread=False)
def max_age_only() -> str:
    return "fresh"


@get("/level", opt=requires_authentication(acr_values=["2"]), sync_to_thread=False)
def level() -> str:
    return "level"


@get("/phr", opt=requires_authentication(acr_values=["phr"]), sync_to_thread=False)
def phr() -> str:
    return "phr"


@get("/batch", opt=requires_mfa(machine_clients=True), sync_to_thread=False)
def batch() -> str:
    return "batch"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(float(int(time.time())))  # whole seconds, as auth_time is


@pytest.fixture
def client(clock: ManualClock) -> Iterator[TestClient[Litestar]]:
    verifier = TokenVerifier(
        StaticKeySource([PreparedKey.from_jwk(KEY.public_jwk())]),
        issuer=ISSUER,
        audience=AUDIENCE,
        leeway=LEEWAY,
        clock=clock,
    )
    app = Litestar(
        [mfa, recent, max_age_only, level, phr, batch],
        middleware=[DefineMiddleware(BearerAuthMiddleware, verifier=verifier, realm="customers")],
        plugins=[problem_details_plugin()],
    )
    with TestClient(app) as test_client:
        yield test_client


def person(*, mfa: bool | None, scope: str = "customers:delete", **overrides: Any) -> dict[str, str]:
    """A person's token (``mfa=None``: one that says nothing of its login)."""
    login = {} if mfa is None else login_claims(mfa=mfa)
    return {"Authorization": f"Bearer {KEY.sign(claims(scope=scope, **{**login, **overrides}))}"}


def machine(**overrides: Any) -> dict[str, str]:
    """A client credentials token: its ``sub`` is the client, no login claims (RFC 9068 section 2.2)."""
    token_claims = claims(scope="customers:delete", sub="batch-job", client_id="batch-job", roles=None)
    return {"Authorization": f"Bearer {KEY.sign({**token_claims, **overrides})}"}


def assert_step_up(response: Any, challenge: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == challenge
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401
    assert body["type"].endswith("/insufficient-user-authentication")
    assert body["detail"] in challenge


def test_a_password_only_token_gets_the_rfc_9470_challenge(client: TestClient[Litestar]) -> None:
    response = client.get("/mfa", headers=person(mfa=False))
    assert_step_up(
        response,
        f'Bearer realm="customers", error="insufficient_user_authentication", {MFA_ONLY}acr_values="2"',
    )


@pytest.mark.parametrize(
    "login",
    [
        {"amr": ["pwd", "otp", "mfa"], "acr": "2"},
        {"amr": ["hwk", "mfa"], "acr": "1"},  # amr "mfa" is enough (RFC 8176)
        {"amr": ["swk"], "acr": "2"},  # and so is the MFA level
        {"amr": [], "acr": "3"},  # or any higher one
    ],
)
def test_a_multi_factor_login_passes(client: TestClient[Litestar], login: dict[str, Any]) -> None:
    response = client.get("/mfa", headers=person(mfa=None, auth_time=int(time.time()), **login))
    assert response.status_code == 200, response.text
    assert response.text == "deleted"


@pytest.mark.parametrize(
    "login",
    [
        {"amr": ["pwd", "otp"], "acr": "1"},  # two methods, but the issuer did not vouch for "mfa"
        {"amr": ["pwd"], "acr": "silver"},
        {"amr": ["pwd"], "acr": "2.5"},
        {"amr": ["MFA"], "acr": "1"},  # RFC 8176 values are case-sensitive
        {},  # a person's token that says nothing of its login
    ],
    ids=["two-methods", "word-acr", "decimal-acr", "upper-case", "no-login-claims"],
)
def test_what_is_not_mfa(client: TestClient[Litestar], login: dict[str, Any]) -> None:
    response = client.get("/mfa", headers=person(mfa=None, **login))
    assert response.status_code == 401
    assert 'error="insufficient_user_authentication"' in response.headers["www-authenticate"]


def test_a_missing_scope_is_403_before_any_step_up(client: TestClient[Litestar]) -> None:
    """Stepping up would not help a token that may not do this at all."""
    response = client.get("/mfa", headers=person(mfa=False, scope="customers:read"))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


def test_max_age_counts_from_auth_time_on_the_verifiers_clock(
    client: TestClient[Litestar], clock: ManualClock
) -> None:
    headers = person(mfa=None, **login_claims(mfa=True, auth_time=clock.now - 100))
    assert client.get("/recent", headers=headers).status_code == 200
    clock.advance(300 + LEEWAY - 100)  # 330 s after the login: within max_age and the leeway
    assert client.get("/recent", headers=headers).status_code == 200
    clock.advance(1)
    assert_step_up(
        client.get("/recent", headers=headers),
        'Bearer realm="customers", error="insufficient_user_authentication", '
        'error_description="This needs a login within the last 300 seconds.", acr_values="2", max_age="300"',
    )


def test_an_old_login_without_mfa_is_told_both(client: TestClient[Litestar], clock: ManualClock) -> None:
    """The challenge names all the route needs, so the next login cannot fall short on the other."""
    headers = person(mfa=None, **login_claims(mfa=False, auth_time=clock.now - 3600))
    challenge = client.get("/recent", headers=headers).headers["www-authenticate"]
    assert challenge.endswith(f'{MFA_ONLY}acr_values="2", max_age="300"')


def test_max_age_without_auth_time_is_refused(client: TestClient[Litestar]) -> None:
    response = client.get("/max-age", headers=person(mfa=True, auth_time=None))
    assert_step_up(
        response,
        'Bearer realm="customers", error="insufficient_user_authentication", error_description="This '
        'needs the time of the login (auth_time); the token has none.", max_age="60"',
    )
    assert client.get("/max-age", headers=person(mfa=False)).status_code == 200  # any strength, recent


@pytest.mark.parametrize(
    ("path", "acr", "status"),
    [
        ("/level", "2", 200),
        ("/level", "3", 200),
        ("/level", "1", 401),
        ("/phr", "phr", 200),
        ("/phr", "phrh", 401),
    ],
)
def test_acr_values_match_levels_or_exactly(
    client: TestClient[Litestar], path: str, acr: str, status: int
) -> None:
    response = client.get(path, headers=person(mfa=False, acr=acr))
    assert response.status_code == status, response.text
    if status == 401:
        wanted = "2" if path == "/level" else "phr"
        assert response.headers["www-authenticate"].endswith(f'acr_values="{wanted}"')


def test_a_clients_own_token_is_refused_by_default(client: TestClient[Litestar]) -> None:
    response = client.get("/mfa", headers=machine())
    assert_step_up(
        response,
        'Bearer realm="customers", error="insufficient_user_authentication", error_description="This '
        'needs a person\'s login; a client\'s token for itself cannot step up.", acr_values="2"',
    )
    forged = machine(amr=["mfa"], acr="2", auth_time=int(time.time()))  # no person to have logged in
    assert client.get("/mfa", headers=forged).status_code == 401


def test_a_route_may_let_machine_clients_pass_on_scopes(client: TestClient[Litestar]) -> None:
    assert client.get("/batch", headers=machine()).status_code == 200
    assert client.get("/batch", headers=person(mfa=False)).status_code == 401  # people still step up
    assert client.get("/batch", headers=person(mfa=True)).status_code == 200


def _signed_raw(payload: str) -> str:
    return jwt.api_jws.encode(
        payload.encode(), KEY.private, algorithm=KEY.alg, headers={"kid": KEY.kid, "typ": "at+jwt"}
    )


@pytest.mark.parametrize(
    ("name", "literal"),
    [("auth_time", '"yesterday"'), ("auth_time", "1e400"), ("exp", "1e400"), ("auth_time", "true")],
)
def test_a_bad_auth_time_is_an_invalid_token_never_a_500(
    client: TestClient[Litestar], name: str, literal: str
) -> None:
    """``1e400`` is JSON for infinity to Python: no NumericDate, and no ``int()`` of it either."""
    values = {**claims(scope="customers:delete"), **login_claims(mfa=True)}
    payload = json.dumps({**values, name: "@"}).replace('"@"', literal)
    response = client.get("/recent", headers={"Authorization": f"Bearer {_signed_raw(payload)}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_fractional_auth_time_is_whole_seconds(client: TestClient[Litestar]) -> None:
    response = client.get("/recent", headers=person(mfa=True, auth_time=time.time() - 0.5))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("define", "message"),
    [
        (lambda: requires_authentication(), "name acr_values or max_age"),
        (lambda: requires_authentication(acr_values=['2"']), "single words"),
        (lambda: requires_authentication(acr_values=["two words"]), "single words"),
        (lambda: requires_mfa(max_age=-1), "max_age is a number of seconds"),
    ],
    ids=["nothing-required", "quote", "space", "negative-max-age"],
)
def test_a_requirement_that_means_nothing_is_refused_where_it_is_written(define: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        define()


@get("/mfa-but-public", opt={**requires_mfa(), "exclude_from_auth": True}, sync_to_thread=False)
def mfa_but_public() -> str:
    return "anyone"


def test_a_step_up_route_served_without_a_token_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="requires a login strength but is served without a bearer token"):
        check_scoped_routes_authenticated(Litestar([mfa_but_public]), [])
    with pytest.raises(ValueError, match="requires scopes and a login strength"):
        check_scoped_routes_authenticated(Litestar([mfa]), ["^/mfa$"])
    check_scoped_routes_authenticated(Litestar([mfa, recent]), [])


@get("/in-router", opt=requires_mfa(), sync_to_thread=False)
def in_router() -> str:
    return "both held"


def test_a_handlers_requirement_joins_its_routers_scopes() -> None:
    """Litestar merges ``opt`` key by key: a Router's scopes and its handler's step-up both hold."""
    verifier = TokenVerifier(
        StaticKeySource([PreparedKey.from_jwk(KEY.public_jwk())]), issuer=ISSUER, audience=AUDIENCE
    )
    app = Litestar(
        [Router("/", route_handlers=[in_router], opt=requires_scopes("customers:delete"))],
        middleware=[DefineMiddleware(BearerAuthMiddleware, verifier=verifier, realm="customers")],
        plugins=[problem_details_plugin()],
    )
    with TestClient(app) as test_client:
        assert (
            test_client.get("/in-router", headers=person(mfa=True, scope="customers:read")).status_code == 403
        )
        assert test_client.get("/in-router", headers=person(mfa=False)).status_code == 401
        assert test_client.get("/in-router", headers=person(mfa=True)).text == "both held"
