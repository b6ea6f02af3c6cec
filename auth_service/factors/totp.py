"""TOTP (RFC 6238) as every authenticator app computes it: SHA-1, 6 digits, 30-second steps.

Pure functions over pyotp and segno, no I/O and no clock of their own: the caller passes the time
and the last step it accepted. A code is checked against the current step and one step either
side (RFC 6238 section 5.2's allowance for a phone's clock and the time to type), every candidate
compared in constant time; a step at or before the last accepted one is never accepted again, so
a code seen over a shoulder or in a proxy log is worth nothing once used. The secret is 160 random
bits (RFC 4226 section 4), shown to the person as base32 (what apps accept typed in) and as the
``otpauth://`` URI in a QR code, an inline SVG (no image request, nothing the CSP must allow).
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from typing import Final
from uuid import UUID

import pyotp
import segno

__all__ = [
    "DIGITS",
    "STEP_SECONDS",
    "associated_data",
    "grouped",
    "matching_step",
    "new_secret",
    "normalise_code",
    "provisioning_uri",
    "qr_svg",
    "secret_text",
]

SECRET_BYTES: Final = 20
DIGITS: Final = 6
STEP_SECONDS: Final = 30
WINDOW: Final = 1
"""Steps accepted either side of the current one."""
_CODE = re.compile(r"[0-9]{6}")
_SEPARATORS = re.compile(r"[\s-]+")


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def associated_data(user_id: UUID) -> bytes:
    """What a sealed secret is bound to: its owner, so a blob moved to another row does not open."""
    return b"totp:" + user_id.bytes


def secret_text(secret: bytes) -> str:
    """Base32 without padding (20 bytes need none): what ``otpauth://`` URIs and apps take."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def grouped(text: str) -> str:
    """The secret as a person copies it by hand: groups of four."""
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def provisioning_uri(secret: bytes, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret_text(secret), digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(uri: str, title: str) -> str:
    """The URI as an inline ``<svg>``: dark modules on white, ``title`` its accessible name, with a
    ``viewBox`` so a narrow screen scales it down instead of cropping it."""
    code = segno.make(uri, error="m")
    svg: str = code.svg_inline(scale=4, dark="#000", light="#fff", title=title, svgclass="qr-code")
    width, height = code.symbol_size(scale=4)
    return svg.replace("<svg ", f'<svg viewBox="0 0 {width} {height}" role="img" ', 1)


def normalise_code(text: str) -> str | None:
    """Six digits, spaces and hyphens ignored (``123 456``); ``None`` for anything else."""
    code = _SEPARATORS.sub("", text)
    return code if _CODE.fullmatch(code) else None


def matching_step(secret: bytes, code: str, now: float, *, after: int | None) -> int | None:
    """The time step ``code`` is the code of, within the window around ``now`` and later than
    ``after`` (the last step accepted); ``None`` when there is none. Every candidate step is
    computed and compared, matched or not, so the time taken says nothing about which one it was."""
    otp = pyotp.TOTP(secret_text(secret), digits=DIGITS, interval=STEP_SECONDS)
    current = int(now // STEP_SECONDS)
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        matches = hmac.compare_digest(otp.generate_otp(step), code)
        if matches and (after is None or step > after):
            found = step
    return found
