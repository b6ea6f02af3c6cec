"""RFC 6749 section 5.2 errors: the one error shape OAuth clients parse (not problem+json).

They are domain errors like any other (status as class data, no HTTP in sight); what differs is
their wire format, so the app registers one renderer for ``OAuthError``
(``auth_service/tokens/error_answers.py``) beside the shared problem+json mapping. ``error`` is
the RFC 6749 code (data, since one status carries several codes) and ``detail`` its
``error_description``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from auth_service.throttling.errors import ThrottleRefusal, ThrottlingUnavailable
from shared.errors import DomainError

__all__ = [
    "InvalidClient",
    "OAuthError",
    "SlowDown",
    "TemporarilyUnavailable",
    "invalid_grant",
    "invalid_request",
    "refused",
]

BASIC_CHALLENGE = 'Basic realm="oauth", charset="UTF-8"'
UNAVAILABLE_RETRY_AFTER = "2"


class OAuthError(DomainError):
    """A 400 with one of RFC 6749's codes (``invalid_request``, ``invalid_grant``, ``invalid_scope``,
    ``unauthorized_client``, ``unsupported_grant_type``)."""

    status = 400
    slug = "oauth-error"
    with_problem_members: ClassVar[bool] = False
    """Whether the body also carries RFC 9457's type, title, status and detail."""

    def __init__(self, error: str, description: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(description, headers=headers)
        self.error = error


class InvalidClient(OAuthError):
    """Client authentication failed: 401 with a ``WWW-Authenticate: Basic`` challenge (section 5.2)."""

    status = 401

    def __init__(self, description: str = "Client authentication failed.") -> None:
        super().__init__("invalid_client", description, headers={"WWW-Authenticate": BASIC_CHALLENGE})


class SlowDown(OAuthError):
    """Over a limit. RFC 6749 has no code for it: ``slow_down`` (RFC 8628) means "wait before the
    next request", and the body also carries the problem members for HTTP clients that read them."""

    status = 429
    slug = "too-many-requests"
    title = "Too Many Requests"
    with_problem_members = True

    def __init__(self, description: str, retry_after: int) -> None:
        super().__init__("slow_down", description, headers={"Retry-After": str(retry_after)})


class TemporarilyUnavailable(OAuthError):
    """503 with ``Retry-After``: a dependency (signing keys, Redis) cannot answer right now."""

    status = 503

    def __init__(self, description: str, retry_after: str = UNAVAILABLE_RETRY_AFTER) -> None:
        super().__init__("temporarily_unavailable", description, headers={"Retry-After": retry_after})


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def refused(refusal: ThrottleRefusal) -> OAuthError:
    """A limiter's refusal as the OAuth endpoints answer it (see ``SlowDown``)."""
    if isinstance(refusal, ThrottlingUnavailable):
        return TemporarilyUnavailable(refusal.detail, str(refusal.retry_after))
    return SlowDown(refusal.detail, refusal.retry_after)
