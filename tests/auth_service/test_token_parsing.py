"""Any string is a token: the verifier and both token endpoints answer it, never with an unhandled error.

Found by hand first (issue 11): ``token=<a real header>.%C3%A9.AAAA`` at ``/oauth/revoke`` and
``/oauth/introspect`` answered 500, because the payload segment was encoded as ASCII (to build the
signing input) before it was checked as base64url. The strategies below reach that case and its
neighbours: arbitrary text, arbitrary bytes, and JWT-shaped strings whose segments are a header
naming a key the server holds, base64url, or junk (non-ASCII, dots, percent signs, JSON bombs).
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.auth.keys import PreparedKey, StaticKeySource
from shared.auth.verifier import InvalidToken, TokenVerifier
from tests.auth_service.conftest import AuthClient, basic
from tests.shared.auth.token_factory import AUDIENCE, ISSUER, SigningKey

KEY = SigningKey.generate("ES256", kid="es-parsing")
FORM = {"content-type": "application/x-www-form-urlencoded"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def header_for(kid: str, alg: str) -> str:
    return b64(json.dumps({"alg": alg, "kid": kid, "typ": "at+jwt"}).encode())


KNOWN_HEADER = header_for(KEY.kid, KEY.alg)
# The form reader refuses NUL before any parsing; a lone surrogate cannot be sent (no UTF-8 for it).
_NO_NUL = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])


def tokens(header: str) -> st.SearchStrategy[str]:
    """Arbitrary text, and three segments each a known header, base64url, junk text or a JSON bomb."""
    segment = st.one_of(
        st.just(header),
        st.from_regex(r"[A-Za-z0-9_-]{0,60}", fullmatch=True),
        st.text(_NO_NUL, max_size=40),
        st.sampled_from(["é", "%C3%A9", "AAAA", "", "=", "+/", b64(b"[" * 1500), b64(b'{"exp":Infinity}')]),
    )
    jwt_shaped = st.lists(segment, min_size=2, max_size=4).map(".".join)
    return st.one_of(st.text(_NO_NUL, min_size=1), jwt_shaped).filter(bool)


def _verifier(audience: str | None) -> TokenVerifier:
    return TokenVerifier(
        StaticKeySource([PreparedKey.from_jwk(KEY.public_jwk())]), issuer=ISSUER, audience=audience
    )


VERIFIERS = (_verifier(AUDIENCE), _verifier(None))


@given(tokens(KNOWN_HEADER))
@example(f"{KNOWN_HEADER}.é.AAAA")
@example(f"{KNOWN_HEADER}.{b64(b'{}')}.é")
@example(f"{b64(b'[' * 5000)}.AAAA.AAAA")
@settings(max_examples=300, deadline=None)
def test_the_verifier_refuses_any_text_with_invalid_token(token: str) -> None:
    for verifier in VERIFIERS:
        with pytest.raises(InvalidToken):
            asyncio.run(verifier.verify(token))


# ---------------------------------------------------------------- over HTTP
@pytest.fixture
def served(auth: AuthClient) -> tuple[AuthClient, dict[str, str], str]:
    """The app, a confidential client's Basic header, and a header naming the app's signing key."""
    client = auth.create_client(client_name="parsing probe")
    key = auth.http.get("/.well-known/jwks.json").json()["keys"][0]
    return auth, basic(client.client_id, client.client_secret or ""), header_for(key["kid"], key["alg"])


def _both_endpoints(auth: AuthClient, introspector: dict[str, str], body: bytes) -> None:
    revoked = auth.http.post("/oauth/revoke", content=b"client_id=first-party&" + body, headers=FORM)
    assert revoked.status_code == 200, revoked.text
    answer = auth.http.post("/oauth/introspect", content=body, headers={**FORM, **introspector})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"active": False}


_HTTP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(data=st.data())
@_HTTP
def test_revoke_and_introspect_answer_any_text(
    served: tuple[AuthClient, dict[str, str], str], data: Any
) -> None:
    auth, introspector, header = served
    token = data.draw(st.one_of(st.just(f"{header}.é.AAAA"), tokens(header)))
    _both_endpoints(auth, introspector, b"token=" + quote_from_bytes(token.encode("utf-8")).encode())


@given(raw=st.binary(min_size=1, max_size=200).filter(lambda raw: b"\x00" not in raw))
@_HTTP
def test_revoke_and_introspect_answer_any_bytes(
    served: tuple[AuthClient, dict[str, str], str], raw: bytes
) -> None:
    """Percent-encoded bytes that are not UTF-8 decode with replacement characters: still no token."""
    auth, introspector, _ = served
    _both_endpoints(auth, introspector, b"token=" + quote_from_bytes(raw).encode())
