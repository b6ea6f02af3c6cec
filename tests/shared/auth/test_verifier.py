"""TokenVerifier accepts exactly the tokens RFC 8725/9068 say a resource server may accept."""

from __future__ import annotations

import base64
import hashlib
import hmac as hmac_module
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from shared.auth.claims import AccessClaims
from shared.auth.keys import PreparedKey, StaticKeySource, UnusableKey
from shared.auth.revocation_events import MAX_LEEWAY, Revocation
from shared.auth.revocation_set import RevocationSet
from shared.auth.verifier import InvalidToken, RevocationCheckUnavailable, TokenVerifier
from tests.shared.auth.clock import ManualClock
from tests.shared.auth.token_factory import AUDIENCE, ISSUER, SigningKey, claims

RSA = SigningKey.generate("RS256", kid="rsa-1")
EC = SigningKey.generate("ES256", kid="ec-1")
ED = SigningKey.generate("EdDSA", kid="ed-1")
OTHER = SigningKey.generate("RS256", kid="rsa-1")  # same kid, another key


def make_verifier(**kwargs: Any) -> TokenVerifier:
    keys = StaticKeySource(PreparedKey.from_jwk(k.public_jwk()) for k in (RSA, EC, ED))
    return TokenVerifier(keys, **{"issuer": ISSUER, "audience": AUDIENCE, **kwargs})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"sig") -> str:
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)])


async def rejects(token: str, reason: str, verifier: TokenVerifier | None = None) -> None:
    with pytest.raises(InvalidToken) as caught:
        await (verifier or make_verifier()).verify(token)
    assert caught.value.reason == reason, caught.value.description


@pytest.mark.parametrize("key", [RSA, EC, ED], ids=["RS256", "ES256", "EdDSA"])
async def test_valid_tokens_of_each_algorithm(key: SigningKey) -> None:
    verified = await make_verifier().verify(key.sign(claims(scope="customers:read customers:write")))
    assert verified.sub == "user-1"
    assert verified.scopes == {"customers:read", "customers:write"}


async def test_audience_list_containing_ours_is_accepted() -> None:
    assert (
        await make_verifier().verify(RSA.sign(claims(aud=["billing", AUDIENCE])))
    ).client_id == "first-party"


@pytest.mark.parametrize("aud", ["billing", ["billing", "ledger"], AUDIENCE])
async def test_no_audience_accepts_any_audience_and_checks_the_rest(aud: str | list[str]) -> None:
    """``audience=None`` is the issuer's own introspection: any audience, still its signature and claims."""
    any_audience = make_verifier(audience=None)
    assert (await any_audience.verify(RSA.sign(claims(aud=aud)))).aud == aud
    await rejects(RSA.sign(claims(aud=aud, iss="http://other-issuer.test")), "wrong_issuer", any_audience)
    await rejects(RSA.sign(claims(aud=[])), "wrong_audience", any_audience)
    await rejects(OTHER.sign(claims(aud=aud)), "bad_signature", any_audience)


async def test_cached_token_still_expires() -> None:
    clock = ManualClock(time.time())
    verifier = make_verifier(leeway=0, clock=clock)
    token = RSA.sign(claims(exp=int(clock.now) + 1))
    await verifier.verify(token)
    await verifier.verify(token)  # now served from the cache
    clock.advance(1.0)
    await rejects(token, "expired", verifier)


async def test_failures_are_reported_by_reason() -> None:
    reasons: list[str] = []
    verifier = make_verifier(on_failure=reasons.append)
    with pytest.raises(InvalidToken):
        await verifier.verify(RSA.sign(claims(iss="http://evil.test")))
    assert reasons == ["wrong_issuer"]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": -120}, "expired"),
        ({"nbf": 120}, "not_yet_valid"),
        ({"iat": 3600}, "issued_in_future"),
        ({"iss": "http://other-issuer.test"}, "wrong_issuer"),
        ({"aud": "billing"}, "wrong_audience"),
        ({"aud": ["billing", "ledger"]}, "wrong_audience"),
        ({"exp": None}, "missing_claims"),
        ({"sub": None}, "missing_claims"),
        ({"aud": None}, "missing_claims"),
        ({"jti": None}, "missing_claims"),
        ({"client_id": None}, "missing_claims"),
        ({"exp": "tomorrow"}, "bad_claims"),
        ({"exp": True}, "bad_claims"),
        ({"sub": ""}, "bad_claims"),
    ],
)
async def test_claim_checks(overrides: dict[str, Any], reason: str) -> None:
    """Time claims are given as offsets from now, so the cases hold however late the test runs."""
    now = int(time.time())
    resolved = {
        name: now + value
        if name in {"exp", "nbf", "iat"} and isinstance(value, int) and not isinstance(value, bool)
        else value
        for name, value in overrides.items()
    }
    await rejects(RSA.sign(claims(**resolved)), reason)


async def test_leeway_tolerates_small_clock_skew() -> None:
    token = RSA.sign(claims(exp=int(time.time()) - 10, nbf=int(time.time()) + 10))
    assert (await make_verifier(leeway=30).verify(token)).sub == "user-1"


@pytest.mark.parametrize("typ", ["JWT", "jwt", "", None])
async def test_typ_must_be_at_jwt(typ: str | None) -> None:
    headers: dict[str, Any] = {"typ": typ} if typ is not None else {"typ": None}
    await rejects(RSA.sign(claims(), headers=headers), "wrong_type")


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_is_refused(alg: str) -> None:
    await rejects(forge({"alg": alg, "typ": "at+jwt", "kid": "rsa-1"}, claims(), b""), "wrong_alg")


@pytest.mark.parametrize("hmac", ["HS256", "HS384", "HS512"])
async def test_hmac_signed_with_the_public_key_is_refused(hmac: str) -> None:
    pem = RSA.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = forge({"alg": hmac, "typ": "at+jwt", "kid": "rsa-1"}, claims())
    # Signed as a confused verifier would check it: HMAC keyed by the public key's PEM.
    signing_input = token.rsplit(".", 1)[0].encode()
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[hmac]
    signature = hmac_module.new(pem, signing_input, digest).digest()
    await rejects(token.rsplit(".", 1)[0] + "." + b64(signature), "wrong_alg")


async def test_header_alg_must_match_the_keys_alg() -> None:
    token = jwt.encode(claims(), RSA.private, algorithm="PS256", headers={"kid": "rsa-1", "typ": "at+jwt"})
    await rejects(token, "wrong_alg")


async def test_signature_of_another_key_is_refused() -> None:
    await rejects(OTHER.sign(claims()), "bad_signature")


async def test_stripped_signature_is_refused() -> None:
    head, body, _ = RSA.sign(claims()).split(".")
    await rejects(f"{head}.{body}.", "bad_signature")


@pytest.mark.parametrize("kid", ["nope", "../../etc/passwd", "' OR 1=1 --", "k" * 10_000])
async def test_unknown_or_hostile_kid_is_refused(kid: str) -> None:
    await rejects(
        forge({"alg": "RS256", "typ": "at+jwt", "kid": kid}, claims()),
        "no_kid" if len(kid) > 256 else "unknown_kid",
        make_verifier(max_token_bytes=100_000),
    )


async def test_missing_kid_is_refused() -> None:
    await rejects(forge({"alg": "RS256", "typ": "at+jwt"}, claims()), "no_kid")


async def test_crit_extension_is_refused() -> None:
    await rejects(RSA.sign(claims(), headers={"crit": ["exp"], "exp": 1}), "unsupported_crit")


@pytest.mark.parametrize("header", ["jku", "x5u"])
async def test_remote_key_headers_are_ignored_not_followed(header: str) -> None:
    # Signed by a key we do not trust, pointing at where it could be found: still unknown/bad.
    await rejects(OTHER.sign(claims(), headers={header: "http://127.0.0.1:9/keys"}), "bad_signature")


async def test_embedded_jwk_header_is_ignored() -> None:
    attacker = SigningKey.generate("RS256", kid="rsa-1")
    await rejects(attacker.sign(claims(), headers={"jwk": attacker.public_jwk()}), "bad_signature")


async def test_duplicate_json_names_are_refused() -> None:
    good = RSA.sign(claims())
    payload = json.dumps(claims())[:-1] + ', "sub": "admin"}'
    signed = jwt.api_jws.encode(
        payload.encode(), RSA.private, algorithm="RS256", headers={"kid": "rsa-1", "typ": "at+jwt"}
    )
    await rejects(signed, "malformed")
    header = '{"alg": "RS256", "typ": "at+jwt", "kid": "rsa-1", "kid": "ec-1"}'
    await rejects(f"{b64(header.encode())}.{good.split('.')[1]}.{b64(b'x')}", "malformed")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a",
        "a.b",
        "a.b.c.d",
        "!!!.@@@.###",
        "eyJ=.eyJ.sig",
        f"{b64(b'[1,2]')}.{b64(b'{}')}.c2ln",
        f"{b64(b'not json')}.e30.c2ln",
    ],
)
async def test_malformed_tokens(token: str) -> None:
    await rejects(token, "malformed")


async def test_huge_token_is_refused_before_parsing() -> None:
    await rejects("a" * 9000, "too_large")


class HeldRevocations:
    """A ``RevocationCheck`` over an in-memory set (what ``RevocationFeed`` holds), and whether it
    can answer: the verifier's side of the protocol, without Redis."""

    def __init__(self) -> None:
        self.held = RevocationSet(30)
        self.current = True

    def check(self, claims: AccessClaims) -> None:
        if not self.current:
            raise RevocationCheckUnavailable("stale")
        if self.held.revoked(claims):
            raise InvalidToken("revoked", "The access token was revoked.")


async def test_revoked_token_is_refused_even_from_the_cache() -> None:
    revocations, failures = HeldRevocations(), list[str]()
    verifier = make_verifier(revocations=revocations, on_failure=failures.append)
    payload = claims()
    token = RSA.sign(payload)
    assert (await verifier.verify(token)).jti == payload["jti"]  # verified and cached
    revocations.held.add(Revocation(kind="jti", value=payload["jti"], at=time.time(), exp=payload["exp"]))
    await rejects(token, "revoked", verifier)
    assert failures == ["revoked"]
    assert (await verifier.verify(RSA.sign(claims()))).sub == "user-1"


async def test_revocations_that_cannot_be_checked_refuse_rather_than_pass() -> None:
    revocations = HeldRevocations()
    verifier = make_verifier(revocations=revocations)
    token = RSA.sign(claims())
    await verifier.verify(token)
    revocations.current = False
    with pytest.raises(RevocationCheckUnavailable):
        await verifier.verify(token)


async def test_a_forgotten_key_verifies_nothing_any_more() -> None:
    verifier = make_verifier()
    token = ED.sign(claims())
    await verifier.verify(token)  # cached
    verifier.forget_key(ED.kid)
    await rejects(token, "unknown_kid", verifier)
    await rejects(ED.sign(claims()), "unknown_kid", verifier)
    assert (await verifier.verify(RSA.sign(claims()))).sub == "user-1"


def test_a_leeway_longer_than_revocations_are_kept_is_refused() -> None:
    make_verifier(leeway=MAX_LEEWAY)
    with pytest.raises(ValueError, match="leeway"):
        make_verifier(leeway=MAX_LEEWAY + 1)


@pytest.mark.parametrize(
    ("jwk_change", "message"),
    [
        ({"alg": "HS256"}, "not an allowed"),
        ({"alg": None}, "not an allowed"),
        ({"kid": None}, "no kid"),
        ({"use": "enc"}, "use is not sig"),
        ({"d": "AAAA"}, "private"),
    ],
)
def test_unusable_jwks_entries(jwk_change: dict[str, Any], message: str) -> None:
    jwk = RSA.public_jwk()
    for name, value in jwk_change.items():
        if value is None:
            jwk.pop(name)
        else:
            jwk[name] = value
    with pytest.raises(UnusableKey, match=message):
        PreparedKey.from_jwk(jwk)
