"""Entity tags and the conditional request headers of RFC 9110 §13, for one customer's version.

A customer's ETag is its version in quotes (``"1234"``): strong, since the JSON of one version
is always the same bytes. Versions come from one database sequence, so a tag is never reused,
not even after a delete and a new customer under the same CPF.
"""

from __future__ import annotations

import re

import msgspec

__all__ = ["Preconditions", "etag_of", "not_modified"]

_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')


def etag_of(version: int) -> str:
    return f'"{version}"'


def _parse(header: str | None) -> tuple[bool, tuple[tuple[bool, str], ...]] | None:
    """``None`` when absent; else (is ``*``, ((weak, opaque tag), ...)). Garbage matches nothing."""
    if header is None:
        return None
    if header.strip() == "*":
        return (True, ())
    tags: list[tuple[bool, str]] = []
    position = 0
    while position < len(header):
        match = _TAG.match(header, position)
        if match is None:
            break
        tags.append((match.group(1) is not None, match.group(2)))
        position = match.end()
    return (False, tuple(tags))


class Preconditions(msgspec.Struct, frozen=True):
    """``If-Match`` / ``If-None-Match`` of one request, evaluated against the current version."""

    if_match: tuple[bool, tuple[tuple[bool, str], ...]] | None = None
    if_none_match: tuple[bool, tuple[tuple[bool, str], ...]] | None = None

    @classmethod
    def from_headers(cls, if_match: str | None, if_none_match: str | None) -> Preconditions:
        return cls(_parse(if_match), _parse(if_none_match))

    @property
    def has_if_match(self) -> bool:
        return self.if_match is not None

    @property
    def pins_version(self) -> bool:
        """If-Match names versions (not ``*``): a concurrent change must fail the request."""
        return self.if_match is not None and not self.if_match[0]

    def hold_for(self, version: int) -> bool:
        """RFC 9110 §13.2.2 for an existing resource: If-Match (strong), then If-None-Match (weak)."""
        current = str(version)
        if self.if_match is not None:
            star, tags = self.if_match
            if not star and not any(not weak and tag == current for weak, tag in tags):
                return False
        if self.if_none_match is not None:
            star, tags = self.if_none_match
            if star or any(tag == current for _, tag in tags):
                return False
        return True

    def hold_for_absent(self) -> bool:
        """No current representation: ``If-Match`` (even ``*``) fails; ``If-None-Match`` holds."""
        return self.if_match is None


def not_modified(if_none_match: str | None, version: int) -> bool:
    """GET: does the client's cached copy (weak comparison) still match?"""
    parsed = _parse(if_none_match)
    if parsed is None:
        return False
    star, tags = parsed
    current = str(version)
    return star or any(tag == current for _, tag in tags)
