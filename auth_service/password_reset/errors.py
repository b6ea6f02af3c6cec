"""What a password reset refuses, as domain errors (problem+json or an error page through the mappers)."""

from __future__ import annotations

from shared.errors import DomainError

__all__ = ["ResetLinkInvalid"]


class ResetLinkInvalid(DomainError):
    """Unknown, used, expired, or made before the password last changed: one answer for all."""

    status = 400
    slug = "invalid-reset-link"
    detail = "This password reset link is not valid any more; ask for a new one."
