"""The passwordless login's challenges: made with the login page, checked and spent by the answer.

A discoverable login names nobody until its answer, so its challenge is not stored when the page
is shown: the login page carries the options itself (as Keycloak's does), the passkey button
prompts at once without asking the server first, and a page shown to a person who then types a
password costs no write. Such a challenge proves its own origin instead:

    nonce (16 random bytes) || expiry (8 bytes, Unix seconds) || HMAC-SHA256(key, label || both)[:16]

under a key derived from the KEK (every replica shares it, nothing new to configure). The answer's
challenge is the one in its ``clientDataJSON``, which the authenticator's signature covers: it must
carry our MAC and be unexpired, and it is then spent (its digest inserted into
``webauthn_spent_challenges`` by the statement that reads the credential), so a second answer with
the same challenge finds it spent, whoever answers first and on whichever replica. The
registration's and the second factor's challenges stay stored and bound to a browser
(``challenges.py``): they belong to a session or to a person.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
import time
from collections.abc import Callable

from auth_service.passkeys.errors import PasskeyRefused

__all__ = ["LOGIN_CHALLENGE_BYTES", "LoginChallenges"]

_NONCE, _EXPIRY, _MAC = 16, 8, 16
LOGIN_CHALLENGE_BYTES = _NONCE + _EXPIRY + _MAC
_LABEL = b"passkey-login-challenge/1"


class LoginChallenges:
    __slots__ = ("_clock", "_key", "_ttl")

    def __init__(self, key: bytes, ttl: int, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._ttl = ttl
        self._clock = clock

    def mint(self, *, at: float | None = None) -> bytes:
        """A new challenge, good for the ceremony's lifetime from ``at`` (default: now)."""
        nonce = secrets.token_bytes(_NONCE)
        expiry = struct.pack(">q", int(self._clock() if at is None else at) + self._ttl)
        return nonce + expiry + self._mac(nonce + expiry)

    def check(self, challenge: bytes) -> int:
        """When ``challenge`` expires (Unix seconds). ``PasskeyRefused``: ``invalid`` if we did not
        make it, ``expired`` if its time is up."""
        signed, mac = challenge[: _NONCE + _EXPIRY], challenge[_NONCE + _EXPIRY :]
        if len(challenge) != LOGIN_CHALLENGE_BYTES or not hmac.compare_digest(self._mac(signed), mac):
            raise PasskeyRefused("invalid", "a login challenge this service did not make")
        (expires,) = struct.unpack(">q", signed[_NONCE:])
        if expires <= self._clock():
            raise PasskeyRefused("expired")
        return int(expires)

    @staticmethod
    def digest(challenge: bytes) -> bytes:
        """What the spent set keeps (SHA-256): the same length whatever an answer sent."""
        return hashlib.sha256(challenge).digest()

    def _mac(self, signed: bytes) -> bytes:
        return hmac.new(self._key, _LABEL + signed, hashlib.sha256).digest()[:_MAC]
