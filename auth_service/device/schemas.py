"""The device authorization response (RFC 8628 section 3.2)."""

from __future__ import annotations

import msgspec

__all__ = ["DEVICE_CODE_GRANT", "DeviceAuthorizationResponse"]

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class DeviceAuthorizationResponse(msgspec.Struct, frozen=True):
    device_code: str
    """What the device polls the token endpoint with (256 random bits; only its SHA-256 is stored)."""
    user_code: str
    """What the person types at ``verification_uri``, shown ``BCDF-GHJK``."""
    verification_uri: str
    verification_uri_complete: str
    """``verification_uri`` with the code filled in (for a QR code or a link)."""
    expires_in: int
    interval: int
    """Seconds to wait between polls."""
