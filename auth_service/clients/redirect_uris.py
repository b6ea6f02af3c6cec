"""Matching a presented redirect URI against a client's registered ones (RFC 9700 section 4.1.3).

Exact string comparison, no normalisation: a different case, an extra path segment, a ``..``, an
added query or a trailing slash is another URI and is refused. The one exception is RFC 8252
section 7.3: for an ``http`` loopback IP literal (``127.0.0.1`` or ``[::1]``) registered by a
native app, any port matches, since the app picks a free one when it starts listening. ``localhost``
gets no exception (RFC 8252 section 8.3: it may resolve elsewhere). The same rule serves
``post_logout_redirect_uri``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

__all__ = ["LOOPBACK_HOSTS", "redirect_uri_registered"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]"})


def _without_port(parts: SplitResult) -> tuple[str, str, str, str, str]:
    host = parts.netloc.rsplit(":", 1)[0] if not parts.netloc.endswith("]") else parts.netloc
    return parts.scheme, host, parts.path, parts.query, parts.fragment


def _loopback(parts: SplitResult) -> bool:
    host = parts.netloc if parts.netloc.endswith("]") else parts.netloc.rsplit(":", 1)[0]
    return parts.scheme == "http" and host in LOOPBACK_HOSTS and "@" not in parts.netloc


def redirect_uri_registered(registered: Iterable[str], presented: str) -> bool:
    """``presented`` is one of ``registered`` exactly, or a loopback one with another port."""
    candidates = list(registered)
    if presented in candidates:
        return True
    try:
        asked = urlsplit(presented)
        _ = asked.port  # a port that is not a number in range is refused here
    except ValueError:
        return False
    if not _loopback(asked):
        return False
    for uri in candidates:
        parts = urlsplit(uri)
        if _loopback(parts) and _without_port(parts) == _without_port(asked):
            return True
    return False
