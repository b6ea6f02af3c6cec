"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0) as an app receives it: a real HTTP
receiver on 127.0.0.1 checks each logout token with PyJWT against our JWKS; retries on 5xx, none on
4xx, nothing for apps without a back-channel URI, in-flight notices cancelled by ``stop()``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from uuid import UUID

import jwt
import pytest

from auth_service.browser_sessions.service import BrowserSession, EndedSession
from auth_service.clients.directory import ClientDirectory
from auth_service.logout.backchannel import BACKCHANNEL_LOGOUT_EVENT, BackchannelLogout
from auth_service.oidc.assurance import ACR_ONE_FACTOR, AMR_PASSWORD
from shared.metrics.service import ServiceMetrics
from tests.auth_service.code_flow import exchanged, pkce, store_code, user_id
from tests.auth_service.conftest import AGENT_EMAIL, SYSTEM, AuthClient

ISSUER = "http://auth.test"
REDIRECT = "https://rp.example.com/cb"


class Receiver:
    """An app's back-channel logout endpoint: answers ``statuses`` in turn (then the last one)."""

    def __init__(self, statuses: list[int], delay: float = 0.0) -> None:
        self.statuses, self.delay = statuses, delay
        self.bodies: list[dict[str, list[str]]] = []
        self.content_types: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                receiver.content_types.append(self.headers.get("content-type", ""))
                receiver.bodies.append(parse_qs(self.rfile.read(length).decode()))
                time.sleep(receiver.delay)
                status = receiver.statuses[min(len(receiver.bodies), len(receiver.statuses)) - 1]
                self.send_response(status)
                self.send_header("Cache-Control", "no-store")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver([200])
    yield made
    made.close()


def app_client(auth: AuthClient, **fields: Any) -> str:
    client = auth.create_client(
        grant_types=["authorization_code", "refresh_token"], token_endpoint_auth_method="none",
        redirect_uris=[REDIRECT], **fields,
    )  # fmt: skip
    return client.client_id


def session_with_logins(auth: AuthClient, client_ids: list[str]) -> BrowserSession:
    """A browser session whose login gave each client a refresh family (the code grant)."""
    agent = user_id(auth, AGENT_EMAIL)
    session, _ = auth.call(
        auth.services.browser.browser_sessions.start, agent, amr=[AMR_PASSWORD], acr=ACR_ONE_FACTOR,
        source_ip=None, user_agent=None, replacing=None,
    )  # fmt: skip
    for client_id in client_ids:
        verifier, challenge = pkce()
        code = store_code(
            auth, agent, challenge, scopes=["openid"], resources=[f"{ISSUER}/userinfo"],
            client_id=client_id, redirect_uri=REDIRECT, browser_session_id=session.id,
        )  # fmt: skip
        exchanged(auth, code, verifier, client_id=client_id, redirect_uri=REDIRECT)
    assert isinstance(session, BrowserSession)
    return session


def verified(auth: AuthClient, token: str, client_id: str) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "logout+jwt"
    keys = {k["kid"]: k for k in auth.http.get("/.well-known/jwks.json").json()["keys"]}
    claims: dict[str, Any] = jwt.decode(
        token, jwt.PyJWK(keys[header["kid"]]).key, algorithms=[header["alg"]], audience=client_id,
        issuer=ISSUER, options={"require": ["iss", "aud", "iat", "exp", "jti", "sub", "sid", "events"]},
    )  # fmt: skip
    return claims


def metric(auth: AuthClient, outcome: str) -> float:
    for line in auth.http.get("/metrics").text.splitlines():
        if line.startswith(f'auth_backchannel_logouts_total{{outcome="{outcome}"}}'):
            return float(line.split()[-1])
    return 0.0


def test_ending_a_session_posts_a_verifiable_logout_token_to_each_app(
    seeded: AuthClient, receiver: Receiver
) -> None:
    told = app_client(seeded, backchannel_logout_uri=receiver.uri)
    silent = app_client(seeded)  # no back-channel URI: nothing is sent to it
    session = session_with_logins(seeded, [told, silent])
    ended = seeded.call(seeded.services.browser.browser_sessions.end, session.id, "logout", SYSTEM)
    assert set(ended.client_ids) == {told, silent}
    seeded.call(seeded.services.browser.backchannel_logout.idle)
    assert len(receiver.bodies) == 1
    assert receiver.content_types == ["application/x-www-form-urlencoded"]
    claims = verified(seeded, receiver.bodies[0]["logout_token"][0], told)
    assert (claims["sub"], claims["sid"]) == (str(user_id(seeded, AGENT_EMAIL)), str(session.id))
    assert claims["events"] == {BACKCHANNEL_LOGOUT_EVENT: {}}
    assert "nonce" not in claims  # section 2.4: a logout token never carries one
    assert claims["exp"] - claims["iat"] == 120
    assert abs(claims["iat"] - time.time()) < 30
    assert metric(seeded, "delivered") == 1.0
    # the token opens nothing here: it is no access token
    logout_token = receiver.bodies[0]["logout_token"][0]
    assert seeded.http.get("/userinfo", headers=seeded.bearer(logout_token)).status_code == 401


def sender(auth: AuthClient, **kwargs: Any) -> BackchannelLogout:
    keyring = auth.services.signing_keys.keyring
    return BackchannelLogout(
        keyring, ClientDirectory(auth.services.pool, ttl=0), ServiceMetrics("test"), issuer=ISSUER,
        timeout=kwargs.pop("timeout", 2.0), backoff=0.01, **kwargs,
    )  # fmt: skip


def notify(auth: AuthClient, backchannel: BackchannelLogout, client_id: str) -> None:
    ended = EndedSession(id=UUID(int=7), user_id=user_id(auth, AGENT_EMAIL), client_ids=[client_id])

    async def run() -> None:
        await backchannel.start()
        try:
            await backchannel.notify(ended)
            await backchannel.idle()
        finally:
            await backchannel.stop()

    auth.call(run)


@pytest.mark.parametrize(
    ("statuses", "attempts", "outcome"),
    [
        ([503, 502, 204], 3, "delivered"),
        ([503], 3, "failed"),
        ([400], 1, "refused"),
        ([429, 200], 2, "delivered"),
    ],
)
def test_a_failing_app_is_retried_twice_and_a_refusing_one_never(
    seeded: AuthClient, statuses: list[int], attempts: int, outcome: str
) -> None:
    app = Receiver(statuses)
    try:
        client_id = app_client(seeded, backchannel_logout_uri=app.uri)
        backchannel = sender(seeded)
        notify(seeded, backchannel, client_id)
        assert len(app.bodies) == attempts
        assert backchannel._outcomes[outcome]._value.get() == 1.0
        tokens = {body["logout_token"][0] for body in app.bodies}
        assert len(tokens) == 1  # the same token each time: the app may dedupe by jti
    finally:
        app.close()


def test_an_unreachable_app_fails_after_its_timeouts_and_stop_cancels_what_is_in_flight(
    seeded: AuthClient,
) -> None:
    slow = Receiver([200], delay=1.0)
    try:
        client_id = app_client(seeded, backchannel_logout_uri=slow.uri)
        timed_out = sender(seeded, timeout=0.1)
        notify(seeded, timed_out, client_id)
        assert timed_out._outcomes["failed"]._value.get() == 1.0
        assert len(slow.bodies) == 3
        cancelled = sender(seeded, timeout=5.0)
        ended = EndedSession(id=UUID(int=8), user_id=user_id(seeded, AGENT_EMAIL), client_ids=[client_id])

        async def stop_early() -> float:
            await cancelled.start()
            await cancelled.notify(ended)
            started = time.monotonic()
            await cancelled.stop()
            return time.monotonic() - started

        assert seeded.call(stop_early) < 0.9
        assert cancelled._outcomes["cancelled"]._value.get() == 1.0
    finally:
        slow.close()
