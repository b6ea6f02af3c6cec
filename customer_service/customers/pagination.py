"""Keyset pagination: page limits and the opaque cursor that says where the next page starts.

A cursor is base64url (no padding) of a compact JSON array: the last CPF served, and for searches
the relevance tier it was in and a fingerprint of the search it belongs to. Clients must treat it as
opaque; a cursor that does not decode to exactly that shape, names an invalid CPF or belongs to
another search is refused with 400 rather than silently restarting the listing.

Keyset (``WHERE cpf > last ORDER BY cpf``) rather than OFFSET: a page costs the same wherever it
is, and rows inserted or deleted meanwhile never make a row that was present throughout appear
twice or not at all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

import msgspec

from customer_service.customers.cpf import is_valid_cpf

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "InvalidCursor",
    "Position",
    "decode_cursor",
    "encode_cursor",
    "fingerprint",
    "parse_limit",
]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_B64URL = re.compile(r"[A-Za-z0-9_-]{1,400}")
_LIMIT = re.compile(r"[0-9]{1,4}")


class InvalidCursor(ValueError):
    pass


class Position(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    """Where a page ended: the last CPF, plus its tier and the search fingerprint for searches."""

    cpf: str
    tier: int | None = None
    search: str | None = None


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Position)


def encode_cursor(position: Position) -> str:
    return base64.urlsafe_b64encode(_encoder.encode(position)).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> Position:
    if _B64URL.fullmatch(cursor) is None or len(cursor) % 4 == 1:
        raise InvalidCursor("Is not a cursor this API gave out.")
    try:
        raw = binascii.a2b_base64(cursor.translate(str.maketrans("-_", "+/")) + "=" * (-len(cursor) % 4))
        position = _decoder.decode(raw)
    except (binascii.Error, msgspec.DecodeError):
        raise InvalidCursor("Is not a cursor this API gave out.") from None
    if not is_valid_cpf(position.cpf) or (position.tier is not None and not 0 <= position.tier < 10):
        raise InvalidCursor("Is not a cursor this API gave out.")
    if encode_cursor(position) != cursor:  # one canonical spelling: no smuggled variants
        raise InvalidCursor("Is not a cursor this API gave out.")
    return position


def fingerprint(*parts: Any) -> str:
    """A short digest of a search's parameters, so its cursor cannot continue another search."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=6).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def parse_limit(raw: str | None) -> int:
    """1..100, default 20; outside that range is an error, never clamped."""
    if raw is None:
        return DEFAULT_LIMIT
    if _LIMIT.fullmatch(raw) is None or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValueError(f"Must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)
