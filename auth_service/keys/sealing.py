"""Private signing keys sealed at rest with AES-256-GCM under a key-encryption key (KEK).

The KEK never lives in the database: it comes from a setting or a secret file (the dev stack writes
one into ``.data/``). Each sealed blob is ``nonce (12 bytes) || ciphertext+tag``, and the key's
``kid`` and ``alg`` are bound as associated data, so a blob copied onto another row does not open.

KEK rotation: the newest KEK seals, and previous ones (``AUTH_PREVIOUS_KEY_ENCRYPTION_KEYS``) still
open what they sealed until ``keys reseal`` has sealed everything again under the newest. Opening
simply tries each in turn: GCM authenticates, so a wrong KEK fails its tag check cleanly and can
never yield a wrong plaintext. A blob carries no KEK identifier, which keeps the format unchanged.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["KEK_SETTINGS", "KeyEncryptionKey", "KeyEncryptionKeyError"]

_NONCE_BYTES = 12
KEK_SETTINGS = "AUTH_KEY_ENCRYPTION_KEY (or _FILE) or AUTH_PREVIOUS_KEY_ENCRYPTION_KEYS"
"""Where an operator puts the KEK a stored key needs (named in every "does not open" error)."""


class KeyEncryptionKeyError(ValueError):
    """The KEK is missing or malformed, or a sealed key does not open with any configured KEK."""


def _raw(text: str, setting: str) -> bytes:
    """The 32 bytes of one KEK written as base64url (or standard base64), padded or not."""
    value = text.strip()
    try:
        raw = base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise KeyEncryptionKeyError(f"{setting} is not base64") from None
    if len(raw) != 32:
        raise KeyEncryptionKeyError(f"{setting} must be 32 bytes (AES-256)")
    return raw


def _aead(text: str, setting: str) -> AESGCM:
    return AESGCM(_raw(text, setting))


class KeyEncryptionKey:
    """The sealing KEK plus the previous ones, which only open. Services share one object: signing
    keys and anything else sealed at rest (refresh-token successors) use ``seal``/``open``."""

    __slots__ = ("_aead", "_newest", "_previous")

    def __init__(self, key: bytes, previous: Sequence[bytes] = ()) -> None:
        if len(key) != 32 or any(len(old) != 32 for old in previous):
            raise KeyEncryptionKeyError("the key-encryption key must be 32 bytes (AES-256)")
        self._newest = key
        self._aead = AESGCM(key)
        self._previous = tuple(AESGCM(old) for old in previous if old != key)

    @classmethod
    def _of(cls, newest: bytes, previous: Sequence[AESGCM]) -> KeyEncryptionKey:
        kek = cls.__new__(cls)
        kek._newest = newest
        kek._aead = AESGCM(newest)
        kek._previous = tuple(previous)
        return kek

    @classmethod
    def from_text(cls, text: str) -> KeyEncryptionKey:
        """Accept the base64url (or standard base64) text of 32 random bytes, padded or not."""
        return cls._of(_raw(text, "the key-encryption key"), ())

    @classmethod
    def from_settings(cls, value: str, file: str, *, previous: Sequence[str] = ()) -> KeyEncryptionKey:
        """``value`` or else the content of ``file`` seals; each of ``previous`` only opens."""
        if value:
            newest = _raw(value, "AUTH_KEY_ENCRYPTION_KEY")
        elif file:
            try:
                text = Path(file).read_text(encoding="utf-8")
            except OSError as exc:
                raise KeyEncryptionKeyError(
                    f"cannot read the key-encryption key file: {exc.strerror}"
                ) from None
            newest = _raw(text, "the key-encryption key in AUTH_KEY_ENCRYPTION_KEY_FILE")
        else:
            raise KeyEncryptionKeyError(
                "no key-encryption key: set AUTH_KEY_ENCRYPTION_KEY or AUTH_KEY_ENCRYPTION_KEY_FILE"
            )
        older = [
            _aead(text, f"entry {number} of AUTH_PREVIOUS_KEY_ENCRYPTION_KEYS")
            for number, text in enumerate(previous, start=1)
        ]
        return cls._of(newest, older)

    def derive(self, purpose: str) -> bytes:
        """32 bytes for one ``purpose`` (HKDF-SHA256 of the newest KEK, the purpose as ``info``):
        a secret every replica shares with nothing new to configure (the hosted pages' CSRF
        tokens). Knowing one derived secret reveals neither the KEK nor another purpose's secret;
        rotating the KEK changes every derived secret (a form open during it must be sent again)."""
        info = b"fintech-auth/" + purpose.encode()
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(self._newest)

    def seal(self, plaintext: bytes, associated: bytes) -> bytes:
        """Always under the newest KEK."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, associated)

    def open(self, sealed: bytes, associated: bytes) -> bytes:
        """With the newest KEK, else with each previous one (raises if none opens it)."""
        return self._open(sealed, associated)[0]

    def reseal(self, sealed: bytes, associated: bytes, *, name: str | None = None) -> tuple[bytes, bool]:
        """The blob sealed again under the newest KEK, and whether it was under a previous one.
        ``name`` (``signing key k1``...): a blob no KEK opens is named in the error, which says
        nothing was resealed (``keys reseal`` runs in one transaction)."""
        try:
            plaintext, newest = self._open(sealed, associated)
        except KeyEncryptionKeyError:
            if name is None:
                raise
            raise KeyEncryptionKeyError(
                f"{name} does not open with any configured key-encryption key (set {KEK_SETTINGS} to "
                "the one that sealed it); nothing was resealed"
            ) from None
        return self.seal(plaintext, associated), not newest

    def _open(self, sealed: bytes, associated: bytes) -> tuple[bytes, bool]:
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        for aead in (self._aead, *self._previous):
            try:
                return aead.decrypt(nonce, ciphertext, associated), aead is self._aead
            except InvalidTag:
                continue
        raise KeyEncryptionKeyError(
            f"a sealed key does not open with any configured key-encryption key: set {KEK_SETTINGS} "
            "to the key it was sealed with"
        )
