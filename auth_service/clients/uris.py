"""Which URIs a client may register for redirects, post-logout redirects and back-channel logout.

A redirect URI is where the authorization code goes, so a loose one is an open door (RFC 9700
section 4.1.1): it must be absolute, without a fragment (RFC 6749 section 3.1.2), without userinfo
(``https://good.example@evil.example/`` reads as one host and is another), without a wildcard
(matching is exact: ``redirect_uris.py``) and in printable ASCII. Plain ``http:`` travels in clear,
so outside development it is allowed only to a loopback IP literal, which never leaves the machine
(RFC 8252 section 7.3); ``localhost`` is only a name and may resolve elsewhere (section 8.3), so it
too is a development convenience. A private-use scheme (``com.example.app:/cb``) is how a native
app receives its redirect (section 7.1); it must look like a reversed domain name (a dot) so two
apps do not claim the same one, and only public clients are native apps. The back-channel logout
URI is called by this server, never by a browser: ``http(s)`` only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from auth_service.clients.redirect_uris import LOOPBACK_HOSTS
from auth_service.errors import InvalidField

__all__ = ["MAX_URIS", "MAX_URI_LENGTH", "UriRules"]

MAX_URIS = 20
MAX_URI_LENGTH = 2000
_PRINTABLE = re.compile(r"[\x21-\x7e]+")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")


def _host(parts: SplitResult) -> str:
    netloc = parts.netloc
    if netloc.startswith("["):
        return netloc[: netloc.find("]") + 1]
    return netloc.rsplit(":", 1)[0].lower()


class UriRules:
    """The checks, with ``development`` (``settings.oidc.environment``) relaxing ``http:``."""

    __slots__ = ("_development",)

    def __init__(self, *, development: bool) -> None:
        self._development = development

    def redirect_uris(self, field: str, uris: Iterable[str], *, public: bool) -> list[str]:
        """``uris`` checked, duplicates dropped (order kept); 422 naming ``field`` otherwise."""
        checked = list(dict.fromkeys(uris))
        if len(checked) > MAX_URIS:
            raise InvalidField(field, f"At most {MAX_URIS} URIs may be registered.")
        for uri in checked:
            self._check(field, uri, public=public, web_only=False)
        return checked

    def backchannel_logout_uri(self, uri: str | None) -> str | None:
        if uri is not None:
            self._check("backchannel_logout_uri", uri, public=False, web_only=True)
        return uri

    def _check(self, field: str, uri: str, *, public: bool, web_only: bool) -> None:
        why = _refusal(uri, public=public, web_only=web_only, development=self._development)
        if why is not None:
            raise InvalidField(field, f"{uri[:100]!r}: {why}")


def _refusal(uri: str, *, public: bool, web_only: bool, development: bool) -> str | None:
    """Why ``uri`` may not be registered, or None."""
    if len(uri) > MAX_URI_LENGTH:
        return f"a URI is at most {MAX_URI_LENGTH} characters."
    if not _PRINTABLE.fullmatch(uri):
        return "a URI is printable ASCII without spaces."
    if "#" in uri:
        return "a fragment is not allowed (RFC 6749 section 3.1.2)."
    if "*" in uri:
        return "wildcards are not allowed: redirect URIs are matched exactly."
    try:
        parts = urlsplit(uri)
        _ = parts.port
    except ValueError:
        return "not a valid URI."
    if not parts.scheme or not _SCHEME.fullmatch(parts.scheme):
        return "the URI must be absolute (with a scheme)."
    if "@" in parts.netloc:
        return "userinfo (user@) is not allowed in a URI."
    if parts.scheme in ("http", "https"):
        return _web_refusal(parts, development)
    if web_only:
        return "only http(s) URIs can receive back-channel logout requests."
    if "." not in parts.scheme:
        return "a private-use scheme must be a reversed domain name, like com.example.app."
    if not public:
        return "a private-use scheme is for native apps: public clients only (RFC 8252 section 7.1)."
    return None


def _web_refusal(parts: SplitResult, development: bool) -> str | None:
    host = _host(parts)
    if not host:
        return "an http(s) URI needs a host."
    if development:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "localhost is for development only; register http://127.0.0.1 (RFC 8252 section 8.3)."
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return "http is allowed only to a loopback IP literal (127.0.0.1 or [::1]); use https."
    return None
