"""The JWKS cache against answers nobody should send: each is skipped or a failed fetch, never a crash.

Every answer comes over real HTTP from ``JwksServer``, serving whatever bytes a test sets (``raw``).
The property tests at the end feed arbitrary documents and token strings: keys are loaded or
skipped, tokens are valid or ``InvalidToken`` (which the middleware answers with 401), and the
background refresh keeps running.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.auth.jwks import JwksCache, JwksUnavailable
from shared.auth.keys import PreparedKey, UnusableKey
from shared.auth.verifier import InvalidToken, TokenVerifier
from tests.shared.auth.clock import ManualClock
from tests.shared.auth.jwks_server import JwksServer
from tests.shared.auth.token_factory import AUDIENCE, SigningKey, claims

FIRST = SigningKey.generate("RS256", kid="first")
SECOND = SigningKey.generate("ES256", kid="second")
THIRD = SigningKey.generate("EdDSA", kid="third")
KEYS = (FIRST, SECOND, THIRD)
JWKS_PATH = "/jwks.json"
METADATA_PATH = "/.well-known/oauth-authorization-server"


@pytest.fixture(scope="module")
def server() -> Iterator[JwksServer]:
    with JwksServer().running() as server:
        yield server


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
        yield client


def jwk(key: SigningKey, **changes: Any) -> dict[str, Any]:
    return {**key.public_jwk(), **changes}


def verifier_for(cache: JwksCache, issuer: str) -> TokenVerifier:
    return TokenVerifier(cache, issuer=issuer, audience=AUDIENCE)


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


# ------------------------------------------------------------------ malformed JWK entries
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(jwk(FIRST, alg=["RS256"]), id="alg-list"),
        pytest.param(jwk(FIRST, alg={"name": "RS256"}), id="alg-object"),
        pytest.param(jwk(FIRST, key_ops=5), id="key_ops-number"),
        pytest.param(jwk(FIRST, key_ops=None), id="key_ops-null"),
    ],
)
async def test_unhashable_alg_or_non_list_key_ops_is_skipped_and_the_rest_loads(
    server: JwksServer, http: httpx.AsyncClient, bad: dict[str, Any]
) -> None:
    server.serve_issuer({"keys": [bad, jwk(SECOND)]})
    cache = JwksCache(server.url, http=http)
    await cache.refresh()  # today: TypeError from PreparedKey.from_jwk escapes
    assert cache.get("first") is None
    token = SECOND.sign(claims(iss=server.url))
    assert (await verifier_for(cache, server.url).verify(token)).sub == "user-1"


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(jwk(FIRST, key_ops="verify"), id="key_ops-string"),
        pytest.param(jwk(FIRST, key_ops=[["verify"]]), id="key_ops-nested"),
        pytest.param(jwk(FIRST, kid=7), id="kid-number"),
        pytest.param(jwk(FIRST, use=["sig"]), id="use-list"),
        pytest.param(jwk(FIRST, n="AQAB!!!" + FIRST.public_jwk()["n"]), id="n-not-base64url"),
        pytest.param(jwk(FIRST, n=12345), id="n-number"),
        pytest.param(jwk(FIRST, kty="EC"), id="kty-other"),
        pytest.param(jwk(SECOND, alg="ES384"), id="crv-not-the-alg-curve"),
        pytest.param(jwk(SECOND, crv=["P-256"]), id="crv-list"),
        pytest.param(jwk(THIRD, crv="X25519"), id="crv-not-a-signature-curve"),
        pytest.param(jwk(THIRD, x=None), id="x-null"),
        pytest.param(jwk(FIRST, n=[]), id="n-list"),
        pytest.param(jwk(FIRST, e="AA"), id="e-zero"),
        pytest.param(jwk(SECOND, x=SECOND.public_jwk()["x"][:10]), id="x-short"),
    ],
)
def test_any_malformed_member_is_an_unusable_key(bad: dict[str, Any]) -> None:
    with pytest.raises(UnusableKey):
        PreparedKey.from_jwk(bad)


def test_a_small_rsa_modulus_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the point)
    weak = SigningKey("weak", "RS256", private)
    with pytest.raises(UnusableKey, match="2048"):
        PreparedKey.from_jwk(weak.public_jwk())


async def test_a_duplicate_kid_refuses_both_keys(
    server: JwksServer, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    impostor = SigningKey.generate("RS256", kid="first")
    server.serve_issuer({"keys": [jwk(FIRST), jwk(SECOND), jwk(impostor)]})
    cache = JwksCache(server.url, http=http)
    with caplog.at_level(logging.WARNING):
        await cache.refresh()
    assert cache.get("first") is None  # today: the last one wins
    assert cache.get("second") is not None
    assert "first" in caplog.text
    verifier = verifier_for(cache, server.url)
    for signer in (FIRST, impostor):
        with pytest.raises(InvalidToken, match="unknown key"):
            await verifier.verify(signer.sign(claims(iss=server.url)))


# ------------------------------------------------------ answers that are not a JSON object
NOT_AN_OBJECT = [
    pytest.param(b"<html>Service Unavailable</html>", id="html"),
    pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
    pytest.param(b"[1, 2]", id="list"),
    pytest.param(b'"keys"', id="string"),
    pytest.param(b"[" * 50_000 + b"]" * 50_000, id="deeply-nested"),
]


@pytest.mark.parametrize("body", NOT_AN_OBJECT)
async def test_metadata_that_is_not_a_json_object_is_a_failed_fetch(
    server: JwksServer, http: httpx.AsyncClient, body: bytes
) -> None:
    server.serve_issuer({"keys": [jwk(FIRST)]})
    server.raw[METADATA_PATH] = (200, body)
    outcomes: list[str] = []
    cache = JwksCache(server.url, http=http, on_fetch=outcomes.append)
    with pytest.raises(JwksUnavailable):
        await cache.refresh()  # today: the JSON error escapes from _discover
    assert outcomes == ["error"]
    with pytest.raises(InvalidToken, match="unknown key"):
        await verifier_for(cache, server.url).verify(FIRST.sign(claims(iss=server.url)))


@pytest.mark.parametrize("issuer", [5, None, ["x"], {"url": "x"}])
async def test_metadata_whose_issuer_is_not_a_string_is_a_failed_fetch(
    server: JwksServer, http: httpx.AsyncClient, issuer: Any
) -> None:
    server.serve_issuer({"keys": [jwk(FIRST)]})
    server.serve_json(METADATA_PATH, {"issuer": issuer, "jwks_uri": server.url + JWKS_PATH})
    cache = JwksCache(server.url, http=http)
    await cache.refresh_for_unknown_kid("first")  # today: AttributeError on issuer.rstrip
    assert not cache.is_ready()


@pytest.mark.parametrize("body", NOT_AN_OBJECT)
async def test_jwks_that_is_not_a_json_object_is_a_failed_fetch(
    server: JwksServer, http: httpx.AsyncClient, body: bytes
) -> None:
    server.serve_issuer({"keys": [jwk(FIRST)]})
    cache = JwksCache(server.url, http=http)
    await cache.refresh()
    server.raw[JWKS_PATH] = (200, body)
    with pytest.raises(JwksUnavailable):
        await cache.refresh()
    assert cache.get("first") is not None  # the last good keys stay usable (stale_if_error)


async def test_background_refresh_survives_an_answer_that_is_not_json(
    server: JwksServer, http: httpx.AsyncClient
) -> None:
    server.serve_issuer({"keys": [jwk(FIRST)]})
    server.raw[METADATA_PATH] = (200, b"<html>oops</html>")
    outcomes: list[str] = []
    cache = JwksCache(server.url, http=http, on_fetch=outcomes.append)
    await cache.start()
    try:
        await until(lambda: "error" in outcomes)  # today: the task dies before counting
        server.serve_issuer({"keys": [jwk(FIRST)]})
        await until(cache.is_ready)  # retried after its backoff (1 s)
        assert cache.refreshing
    finally:
        await cache.close()


# ------------------------------------------------------------------------ property tests
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
MEMBERS = ("kid", "alg", "use", "key_ops", "kty", "crv", "n", "e", "x", "y", "d", "k", "x5c")
PLAUSIBLE = st.sampled_from(
    ["first", "second", "third", "RS256", "PS256", "ES256", "ES384", "EdDSA", "HS256", "none", "sig",
     "enc", ["verify"], ["sign"], "verify", "RSA", "EC", "OKP", "oct", "P-256", "P-521", "Ed25519",
     "X25519", "AQAB", "", "!!", THIRD.public_jwk()["x"]]
)  # fmt: skip


@st.composite
def jwk_shaped(draw: st.DrawFn) -> Any:
    """A real public JWK, usually left alone, else with members changed, dropped or added."""
    entry = dict(draw(st.sampled_from(KEYS)).public_jwk())
    for member in draw(st.lists(st.sampled_from(MEMBERS), max_size=3)):
        if draw(st.booleans()):
            entry.pop(member, None)
        else:
            entry[member] = draw(PLAUSIBLE | JSON)
    return entry


DOCUMENTS = st.one_of(
    JSON,
    st.fixed_dictionaries({"keys": st.lists(jwk_shaped() | JSON, max_size=5)}),
    st.fixed_dictionaries({"keys": JSON}),
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@st.composite
def token_strings(draw: st.DrawFn) -> str:
    """Arbitrary text, three arbitrary segments, or a JWS-shaped token with any header and signature."""
    shape = draw(st.sampled_from(["text", "segments", "jws"]))
    if shape == "text":
        return draw(st.text(max_size=80))
    if shape == "segments":
        return ".".join(draw(st.lists(st.text("AZaz09-_.=%+/", max_size=20), min_size=3, max_size=3)))
    header = draw(
        st.fixed_dictionaries(
            {"typ": st.sampled_from(["at+jwt", "JWT"]), "kid": PLAUSIBLE | JSON, "alg": PLAUSIBLE}
        )
    )
    payload = draw(JSON)
    signature = draw(st.binary(max_size=300))
    return ".".join(
        _b64(part) for part in (json.dumps(header).encode(), json.dumps(payload).encode(), signature)
    )


def usable_alone(document: Any, key: SigningKey) -> bool:
    """The document holds ``key``'s JWK unchanged and no other entry with its kid."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return False
    same_kid = [entry for entry in entries if isinstance(entry, dict) and entry.get("kid") == key.kid]
    return same_kid == [key.public_jwk()]


def kid_count(document: Any, kid: str) -> int:
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return 0
    return sum(1 for entry in entries if isinstance(entry, dict) and entry.get("kid") == kid)


@settings(max_examples=400, deadline=None)
@given(
    entry=jwk_shaped() | st.dictionaries(st.sampled_from(MEMBERS), PLAUSIBLE | JSON), signature=st.binary()
)
def test_from_jwk_prepares_a_key_or_refuses_it(entry: dict[str, Any], signature: bytes) -> None:
    try:
        key = PreparedKey.from_jwk(entry)
    except UnusableKey:
        return
    assert key.verify(b"header.payload", signature) in (True, False)


class Unexpected(logging.Handler):
    """Collects ERROR records: the cache logs one only when something raised that nobody foresaw."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(self.format(record))


@contextmanager
def unexpected_errors() -> Iterator[list[str]]:
    handler, logger = Unexpected(), logging.getLogger("shared.auth.jwks")
    logger.addHandler(handler)
    try:
        yield handler.seen
    finally:
        logger.removeHandler(handler)


@dataclass
class Answers:
    """What the issuer answers in one example, and the tokens presented meanwhile."""

    document: Any
    metadata: Any | None  # None: the right metadata
    tokens: list[str]


ANSWERS = st.builds(
    Answers,
    document=DOCUMENTS,
    metadata=st.none() | st.none() | JSON,
    tokens=st.lists(token_strings(), max_size=4),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers=ANSWERS)
async def test_arbitrary_jwks_documents_and_tokens_end_in_a_documented_outcome(
    server: JwksServer, http: httpx.AsyncClient, answers: Answers
) -> None:
    server.serve_issuer(answers.document)
    if answers.metadata is not None:
        server.serve_json(METADATA_PATH, answers.metadata)
    outcomes: list[str] = []
    cache = JwksCache(
        server.url, http=http, on_fetch=outcomes.append, unknown_kid_interval=0.0, clock=ManualClock(1000.0)
    )
    with unexpected_errors() as errors:
        await cache.start()
        try:
            await present(answers, cache, server.url, outcomes)
        finally:
            await cache.close()
    assert errors == []


async def present(answers: Answers, cache: JwksCache, issuer: str, outcomes: list[str]) -> None:
    verifier = verifier_for(cache, issuer)
    await until(lambda: bool(outcomes))  # the background loop's first fetch, whatever it met
    assert cache.refreshing
    for key in KEYS:
        if kid_count(answers.document, key.kid) > 1:
            assert cache.get(key.kid) is None
        if answers.metadata is None and usable_alone(answers.document, key):
            assert (await verifier.verify(key.sign(claims(iss=issuer)))).sub == "user-1"
    for token in answers.tokens:
        with suppress(InvalidToken):
            await verifier.verify(token)
    fetched = len(outcomes)
    cache.revoke("first")
    await until(lambda: len(outcomes) > fetched)  # the revocation's refetch, by the same loop
    with pytest.raises(InvalidToken):
        await verifier.verify(FIRST.sign(claims(iss=issuer)))
    assert cache.refreshing
