"""The ``scope`` parameter (RFC 6749 section 3.3): space-delimited, case-sensitive scope-tokens."""

from __future__ import annotations

import re

from auth_service.tokens.errors import OAuthError

__all__ = ["grant_scopes", "parse_scope"]

_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")


def parse_scope(value: str | None) -> list[str] | None:
    """``None`` when absent (the client gets its default); the sorted, de-duplicated tokens otherwise."""
    if value is None:
        return None
    tokens = value.split(" ")
    if not value or any(not _SCOPE_TOKEN.match(token) for token in tokens):
        raise OAuthError("invalid_scope", "The scope parameter is malformed.")
    return sorted(set(tokens))


def grant_scopes(requested: list[str] | None, *allowed: list[str] | set[str]) -> list[str]:
    """What may be granted: the intersection of every ``allowed`` set, narrowed to ``requested``.

    Asking for anything outside it is ``invalid_scope`` (RFC 6749 section 5.2) rather than a silent
    narrowing, so a client learns at once that it is misconfigured.
    """
    grantable = set(allowed[0]).intersection(*allowed[1:]) if allowed else set()
    if requested is None:
        return sorted(grantable)
    beyond = [s for s in requested if s not in grantable]
    if beyond:
        raise OAuthError("invalid_scope", f"Not grantable here: {' '.join(beyond)}.")
    return requested
