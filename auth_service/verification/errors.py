"""What e-mail verification refuses, as domain errors (problem+json through the one mapper)."""

from __future__ import annotations

from auth_service.errors import Conflict

__all__ = ["EmailAlreadyVerified"]


class EmailAlreadyVerified(Conflict):
    slug = "email-already-verified"
    detail = "The account's email address is verified already."
