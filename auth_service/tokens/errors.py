"""RFC 6749 section 5.2 errors: the one error shape OAuth clients parse (not problem+json)."""

from __future__ import annotations

__all__ = ["OAuthError"]


class OAuthError(Exception):
    """``error`` is one of RFC 6749's codes; ``invalid_client`` answers 401 with a Basic challenge."""

    def __init__(self, error: str, description: str, *, status: int | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status if status is not None else (401 if error == "invalid_client" else 400)


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)
