"""The headers every hosted page answers with: a strict CSP, no framing, no caching, no referrer.

The policy allows no inline script or style at all (not even a ``style`` attribute): our CSS and
scripts are files under ``/static/``; ``connect-src 'self'`` lets the passkey script fetch its
ceremony options from this origin, and nowhere else. ``form-action`` lists ``'self'`` plus the
origins a page's form ends up at, because Chrome applies ``form-action`` to the redirects that
follow a form submission: the login and consent forms end in a 303 to the client's redirect URI.
A loopback redirect URI may use any port (RFC 8252 §7.3), so its source is ``http://127.0.0.1:*``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import urlsplit

from auth_service.clients.redirect_uris import LOOPBACK_HOSTS

__all__ = ["PAGE_HEADERS", "content_security_policy", "csp_source", "page_headers"]

PAGE_HEADERS: Final[Mapping[str, str]] = {
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
"""What every answer of the browser routes carries besides the CSP (redirects included)."""

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
_HOST = re.compile(r"^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])$")
"""What may appear in a CSP source we build: no space, ``;``, ``,``, quote or wildcard sneaks in."""


def csp_source(uri: str) -> str | None:
    """The CSP source expression matching ``uri``'s origin: ``https://app.example:8443``,
    ``http://127.0.0.1:*`` for a loopback one, ``com.example.app:`` for a private-use scheme; None
    when ``uri`` is not something we could name safely (it is then simply not allowed)."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not _SCHEME.match(scheme):
        return None
    if scheme not in ("http", "https"):
        return f"{scheme}:"
    if ":" in host:
        host = f"[{host}]"
    if not host or not _HOST.match(host) or "@" in parts.netloc:
        return None
    if scheme == "http" and host in LOOPBACK_HOSTS:
        return f"http://{host}:*"
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def content_security_policy(*, img_sources: Iterable[str] = (), form_targets: Iterable[str] = ()) -> str:
    """The page's CSP; ``img_sources`` and ``form_targets`` are URIs (their origins are allowed)."""
    return _policy(tuple(img_sources), tuple(form_targets))


@functools.lru_cache(maxsize=1024)
def _policy(img_sources: tuple[str, ...], form_targets: tuple[str, ...]) -> str:
    """Kept per the sources a page names: the logo's and the registered redirect URIs, few."""
    images = " ".join(dict.fromkeys(s for s in map(csp_source, img_sources) if s))
    forms = " ".join(dict.fromkeys(s for s in map(csp_source, form_targets) if s))
    return (
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
        f"img-src 'self' data:{' ' + images if images else ''}; "
        f"form-action 'self'{' ' + forms if forms else ''}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def page_headers(csp: str, locale: str | None) -> dict[str, str]:
    """All the security headers of one page, plus ``Content-Language`` when it has one."""
    headers = {"Content-Security-Policy": csp, **PAGE_HEADERS}
    if locale:
        headers["Content-Language"] = locale
    return headers
