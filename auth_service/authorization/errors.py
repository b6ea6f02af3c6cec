"""The two ways an authorization request is refused (RFC 6749 section 4.1.2.1).

When the request cannot be trusted to say where to answer (no or repeated ``client_id`` or
``redirect_uri``, an unknown client, a redirect URI not registered for it), the browser gets an
error page and is sent nowhere: ``UntrustedRequest``, a domain error the hosted pages render.
Every later refusal goes back to the client's redirect URI as ``error=``: ``AuthorizationError``.
"""

from __future__ import annotations

from shared.errors import DomainError

__all__ = ["AuthorizationError", "RequestExpired", "UntrustedRequest"]


class UntrustedRequest(DomainError):
    """400, an error page: never a redirect to a URI we cannot vouch for."""

    status = 400
    slug = "authorization-request"
    detail = "The authorization request names no valid client or redirect URI."


class RequestExpired(DomainError):
    """The request id the login or consent page carries is unknown, used or too old: start again."""

    status = 400
    slug = "authorization-expired"
    detail = "This sign-in request has expired; go back to the app and start again."


class AuthorizationError(Exception):
    """A refusal to answer at the client's redirect URI: ``error``, ``error_description``."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
