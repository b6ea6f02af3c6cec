"""What a revocation is, and how it travels from the auth service to every verifier.

This module is the contract between them. The auth service records each revocation in PostgreSQL
(in the transaction that caused it) and publishes it to one Redis Stream, ``{prefix}revocations``;
every verifier loads the stream once (``XRANGE``) and then follows it (``XREAD BLOCK``), keeping the
set in memory, so checking a token costs no network round trip. A stream entry holds the fields of
``Revocation`` as text.

What each kind revokes, for a token with those claims:

- ``jti``: that one access token.
- ``sid``: every access token of that session (refresh-token family; the ``sid`` claim).
- ``sub``, ``client``, ``role``: every access token of that subject, of that client, or carrying
  that role, issued at or before ``at``. ``iat`` is whole seconds (RFC 7519 NumericDate; many
  validators refuse fractions), so a token issued in the same second as the revocation, even just
  after it, is refused too: on the safe side, and one second later new tokens pass.
- ``kid``: every token signed by that key; verifiers also drop the key and refetch the JWKS.

An entry is kept until ``exp + leeway + REVOCATION_MARGIN``, where ``exp`` is the latest expiry of
any token it concerns and ``leeway`` the verifier's own clock leeway (at most ``MAX_LEEWAY``): so a
revoked token never comes back while a verifier would still accept it as unexpired.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Literal, get_args

import msgspec

__all__ = [
    "MAX_LEEWAY",
    "REVOCATION_MARGIN",
    "Revocation",
    "RevocationKind",
    "decode_entry",
    "encode_entry",
    "stream_key",
]

log = logging.getLogger(__name__)

RevocationKind = Literal["jti", "sid", "sub", "client", "role", "kid"]
KINDS: frozenset[str] = frozenset(get_args(RevocationKind))
TIME_BOUND_KINDS: frozenset[str] = frozenset({"sub", "client", "role"})
"""Kinds that revoke only tokens issued at or before ``at``."""

MAX_LEEWAY = 300
"""Largest clock leeway (seconds) a verifier may use; the publisher keeps entries this long past expiry."""
REVOCATION_MARGIN = 60
"""Seconds an entry outlives ``exp + leeway``, for clocks that disagree a little."""


class Revocation(msgspec.Struct, frozen=True, kw_only=True):
    kind: RevocationKind
    value: str
    at: float
    """Unix time of the revocation."""
    exp: int
    """No token this revocation concerns expires later (Unix seconds)."""

    def keep_until(self, leeway: float) -> float:
        """Until when a verifier with ``leeway`` must keep the entry."""
        return self.exp + leeway + REVOCATION_MARGIN


def stream_key(prefix: str) -> str:
    return f"{prefix}revocations"


def encode_entry(revocation: Revocation) -> dict[str, str]:
    """The stream entry's fields (``XADD key * kind ... value ... at ... exp ...``)."""
    return {
        "kind": revocation.kind,
        "value": revocation.value,
        "at": repr(revocation.at),
        "exp": str(revocation.exp),
    }


def _text(value: str | bytes | None) -> str | None:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value


def decode_entry(fields: Mapping[bytes, bytes] | Mapping[str, str]) -> Revocation | None:
    """The revocation an entry holds, or ``None`` (logged) for an entry this version cannot read:
    a verifier skips it rather than stop following the stream."""
    data = {_text(k): _text(v) for k, v in fields.items()}
    kind, value, at, exp = data.get("kind"), data.get("value"), data.get("at"), data.get("exp")
    try:
        if kind not in KINDS or not value or at is None or exp is None:
            raise ValueError("missing or unknown field")
        revoked_at, expires = float(at), int(exp)
        if not math.isfinite(revoked_at):
            raise ValueError("at is not a finite number")
    except ValueError as exc:
        log.warning("skipping a revocation entry this verifier cannot read (%s): %r", exc, data)
        return None
    return Revocation(kind=kind, value=value, at=revoked_at, exp=expires)  # type: ignore[arg-type]
