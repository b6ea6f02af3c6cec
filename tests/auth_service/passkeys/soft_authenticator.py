"""A software WebAuthn authenticator: what a browser and a platform authenticator would answer.

It makes a P-256 key per credential (``cryptography``), the authenticator data by hand (RP id hash,
flags, counter, attested credential data), a ``none`` attestation in CBOR (``cbor2``, which the
``webauthn`` library depends on) and the ``clientDataJSON`` a browser would, so the ceremonies are
tested end to end without a browser. Every field an attacker could choose is a parameter: the
origin, the RP id, the challenge, the counter, the flags, the user handle.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["SoftAuthenticator", "SoftCredential", "b64url", "from_b64url"]

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
AAGUID = bytes.fromhex("0a1b2c3d4e5f60718293a4b5c6d7e8f9")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        )


@dataclass
class SoftAuthenticator:
    """``origin`` is where the "browser" runs; ``counts`` False: an authenticator whose counter stays
    0 (as synced passkeys' do); ``backup_eligible``/``backed_up``: the BE and BS flags."""

    origin: str
    counts: bool = True
    backup_eligible: bool = False
    backed_up: bool = False
    verifies_user: bool = True
    credentials: dict[bytes, SoftCredential] = field(default_factory=dict)

    def _flags(self, *extra: int) -> int:
        flags = UP | (UV if self.verifies_user else 0)
        flags |= (BE if self.backup_eligible else 0) | (BS if self.backed_up else 0)
        for bit in extra:
            flags |= bit
        return flags

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        body = {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        return json.dumps(body, separators=(",", ":")).encode()

    def create(
        self, options: dict[str, Any], *, origin: str | None = None, rp_id: str | None = None
    ) -> dict[str, Any]:
        """``navigator.credentials.create`` with these (JSON) options: the registration's JSON."""
        excluded = {from_b64url(c["id"]) for c in options.get("excludeCredentials", [])}
        if excluded & set(self.credentials):
            raise ValueError("InvalidStateError: a credential of this authenticator is excluded")
        rp = rp_id or options["rp"]["id"]
        credential = SoftCredential(
            secrets.token_bytes(16),
            ec.generate_private_key(ec.SECP256R1()),
            rp,
            from_b64url(options["user"]["id"]),
        )
        self.credentials[credential.credential_id] = credential
        attested = AAGUID + struct.pack(">H", len(credential.credential_id)) + credential.credential_id
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([self._flags(AT)])
            + struct.pack(">I", credential.sign_count)
            + attested
            + credential.cose_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(self._client_data("webauthn.create", options["challenge"], origin)),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        sign_count: int | None = None,
        credential_id: bytes | None = None,
        user_handle: bytes | bool = True,
    ) -> dict[str, Any]:
        """``navigator.credentials.get``: the assertion's JSON. The credential is the one asked
        (``allowCredentials``) or, for a discoverable login, the first one for the RP id.
        ``user_handle``: True sends the credential's, False none, bytes those bytes."""
        credential = self._pick(options, credential_id)
        if sign_count is not None:
            credential.sign_count = sign_count
        elif self.counts:
            credential.sign_count += 1
        auth_data = (
            hashlib.sha256((rp_id or credential.rp_id).encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", credential.sign_count)
        )
        client_data = self._client_data("webauthn.get", challenge or options["challenge"], origin)
        signature = credential.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        handle = credential.user_handle if user_handle is True else (user_handle or None)
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(handle) if handle else None,
            },
        }

    def _pick(self, options: dict[str, Any], credential_id: bytes | None) -> SoftCredential:
        if credential_id is not None:
            return self.credentials[credential_id]
        allowed = [from_b64url(c["id"]) for c in options.get("allowCredentials", [])]
        for found in self.credentials.values():
            if (not allowed or found.credential_id in allowed) and found.rp_id == options["rpId"]:
                return found
        raise ValueError("NotAllowedError: no credential of this authenticator fits")
