"""The pure parts: TOTP as RFC 6238 defines it (its own test vectors), the window and replay rule,
recovery codes' shape and their keyed digests."""

from __future__ import annotations

from uuid import uuid4

import pyotp
import pytest

from auth_service.factors import recovery_codes, totp

RFC_SECRET = b"12345678901234567890"
"""RFC 6238 Appendix B's SHA-1 key; its 8-digit codes end in our 6 digits."""


@pytest.mark.parametrize(
    ("at", "code"), [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")]
)
def test_rfc_6238_vectors(at: int, code: str) -> None:
    assert totp.matching_step(RFC_SECRET, code, at, after=None) == at // 30


def test_one_step_either_side_and_never_one_already_used() -> None:
    now = 1_700_000_015.0
    step = int(now // 30)
    otp = pyotp.TOTP(totp.secret_text(RFC_SECRET))
    assert totp.matching_step(RFC_SECRET, otp.at(now - 30), now, after=None) == step - 1
    assert totp.matching_step(RFC_SECRET, otp.at(now + 30), now, after=None) == step + 1
    assert totp.matching_step(RFC_SECRET, otp.at(now - 60), now, after=None) is None
    assert totp.matching_step(RFC_SECRET, otp.at(now), now, after=step) is None
    assert totp.matching_step(RFC_SECRET, otp.at(now - 30), now, after=step) is None
    assert totp.matching_step(RFC_SECRET, otp.at(now + 30), now, after=step) == step + 1


def test_code_and_secret_text() -> None:
    assert totp.normalise_code(" 123 456 ") == "123456"
    assert totp.normalise_code("123-456") == "123456"
    assert totp.normalise_code("12345") is None
    assert totp.normalise_code("١٢٣٤٥٦") is None
    text = totp.secret_text(totp.new_secret())
    assert len(text) == 32
    assert "=" not in text
    uri = totp.provisioning_uri(RFC_SECRET, "ana@example.com", "Fintech Auth")
    assert uri.startswith("otpauth://totp/Fintech%20Auth:ana%40example.com?secret=")
    svg = totp.qr_svg(uri, "QR <code>")
    assert svg.startswith("<svg")
    assert "style=" not in svg
    assert "QR &lt;code&gt;" in svg


def test_recovery_codes_are_ten_distinct_readable_codes_with_keyed_digests() -> None:
    codes = recovery_codes.new_codes()
    assert len(set(codes)) == 10
    assert all(len(code) == 14 and code.count("-") == 2 for code in codes)
    assert not set("".join(codes)) & set("ilo01")
    key, other = recovery_codes.new_key(), recovery_codes.new_key()
    code = codes[0]
    assert recovery_codes.code_digest(key, code.upper().replace("-", " ")) == recovery_codes.code_digest(
        key, code
    )
    assert recovery_codes.code_digest(key, code) != recovery_codes.code_digest(other, code)
    with pytest.raises(ValueError, match="not a recovery code"):
        recovery_codes.code_digest(key, "abc")
    assert recovery_codes.associated_data(uuid4()) != recovery_codes.associated_data(uuid4())
