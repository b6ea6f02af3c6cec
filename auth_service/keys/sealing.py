"""Private signing keys sealed at rest with AES-256-GCM under a key-encryption key (KEK).

The KEK never lives in the database: it comes from a setting or a secret file (the dev stack writes
one into ``.data/``). Each sealed blob is ``nonce (12 bytes) || ciphertext+tag``, and the key's
``kid`` and ``alg`` are bound as associated data, so a blob copied onto another row does not open.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["KeyEncryptionKey", "KeyEncryptionKeyError"]

_NONCE_BYTES = 12


class KeyEncryptionKeyError(ValueError):
    """The KEK is missing or malformed, or a sealed key does not open with it."""


class KeyEncryptionKey:
    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise KeyEncryptionKeyError("the key-encryption key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)

    @classmethod
    def from_text(cls, text: str) -> KeyEncryptionKey:
        """Accept the base64url (or standard base64) text of 32 random bytes, padded or not."""
        value = text.strip()
        try:
            raw = base64.urlsafe_b64decode(
                value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4)
            )
        except (binascii.Error, ValueError):
            raise KeyEncryptionKeyError("the key-encryption key is not base64") from None
        return cls(raw)

    @classmethod
    def from_settings(cls, value: str, file: str) -> KeyEncryptionKey:
        if value:
            return cls.from_text(value)
        if file:
            try:
                return cls.from_text(Path(file).read_text(encoding="utf-8"))
            except OSError as exc:
                raise KeyEncryptionKeyError(
                    f"cannot read the key-encryption key file: {exc.strerror}"
                ) from None
        raise KeyEncryptionKeyError(
            "no key-encryption key: set AUTH_KEY_ENCRYPTION_KEY or AUTH_KEY_ENCRYPTION_KEY_FILE"
        )

    def seal(self, plaintext: bytes, associated: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, associated)

    def open(self, sealed: bytes, associated: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], associated)
        except InvalidTag:
            raise KeyEncryptionKeyError(
                "a signing key does not decrypt with this key-encryption key (wrong KEK?)"
            ) from None
