"""``POST /api/1/users/me/email-verification``: the bearer token's person asks for a new link.

Throttled per user (``AUTH_VERIFICATION_RESEND_LIMIT`` per window: 429 past it); 409 once the
address is verified. The mail is queued, not sent inline: 202 says it is on its way.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Router, post

from auth_service.actors import RequestActors
from auth_service.browser_sessions.controllers import token_user
from auth_service.openapi_problems import problems
from auth_service.verification.service import EmailVerification

__all__ = ["VerificationSent", "email_verification_router"]


class VerificationSent(msgspec.Struct, frozen=True):
    """Where the new link went: the account's address."""

    email: str


def email_verification_router(verification: EmailVerification, actors: RequestActors) -> Router:
    @post(
        "/",
        operation_id="resendMyEmailVerification",
        summary="Send a new link that verifies your email address",
        status_code=202,
        responses=problems(401, 403, 404, 409, 429, 503),
    )
    async def resend(request: Request[Any, Any, Any]) -> VerificationSent:
        email = await verification.resend(
            token_user(request), actors.of(request), hint=request.headers.get("accept-language")
        )
        return VerificationSent(email=email)

    return Router(
        "/api/1/users/me/email-verification",
        route_handlers=[resend],
        tags=["Users"],
        security=[{"bearer": []}],
    )
