"""Where an authorization request goes next: one of our pages, or the client with its answer."""

from __future__ import annotations

import time
from uuid import UUID

import msgspec

from auth_service.authorization.errors import RequestExpired
from auth_service.authorization.parameters import AuthorizationParameters, Reply
from auth_service.authorization.repository import StoredRequest
from auth_service.browser_sessions.service import BrowserSession
from auth_service.clients.repository import ClientRecord
from auth_service.oidc.scopes import split_identity
from auth_service.tokens.codes import CodeDraft, SessionCode
from auth_service.users.repository import UserRecord

__all__ = [
    "SECOND_STEP_PATH", "Answer", "Pending", "Ready", "ToClient", "ToLogin", "ToPage",
    "draft_of", "grant_of", "needs_login", "request_key",
]  # fmt: skip

SECOND_STEP_PATH = "/login/second-factor"


class ToPage(msgspec.Struct, frozen=True):
    """303 to one of our pages (a path of this origin)."""

    path: str


class ToClient(msgspec.Struct, frozen=True):
    """The authorization response at the client's redirect URI: a code or an error, ``iss`` and
    ``state`` included (RFC 9207)."""

    reply: Reply
    params: dict[str, str]


Answer = ToPage | ToClient


class Pending(msgspec.Struct, frozen=True):
    """A stored request with its client, for the login and consent pages to show."""

    request: StoredRequest
    client: ClientRecord


class ToLogin(msgspec.Struct, frozen=True):
    """The login form, shown by the authorization endpoint itself for a request it has not stored:
    the form carries the request's parameters back (``carried``), so a login writes no request row
    and takes one request less (Keycloak's authorization endpoint answers with its form too)."""

    pending: Pending
    carried: str


Ready = tuple[str, bytes, SessionCode]
"""A code written ahead with its session (``_single_sign_on``): its secret, its digest, and what
was written."""


def draft_of(pending: Pending, grant: list[str]) -> CodeDraft:
    """The code ``pending`` gets for ``grant``, before its browser session is known."""
    parameters = pending.request.parameters
    return CodeDraft(
        client_id=pending.client.client_id, redirect_uri=parameters.reply.redirect_uri, scopes=grant,
        resources=parameters.resources, code_challenge=parameters.code_challenge, nonce=parameters.nonce,
    )  # fmt: skip


def grant_of(parameters: AuthorizationParameters, client: ClientRecord, user: UserRecord | None) -> list[str]:
    """Resource scopes both the client and the person hold (the client's alone when ``user`` is
    not read: the token exchange narrows them to the person's)."""
    allowed = set(client.scopes) if user is None else set(client.scopes).intersection(user.scopes)
    if parameters.scope is None:
        return sorted(allowed)
    identity, resource = split_identity(parameters.scope)
    return sorted([*identity, *(s for s in resource if s in allowed)])


def needs_login(stored: StoredRequest, session: BrowserSession | None) -> bool:
    """Whether the request needs a login despite ``session``: none, ``prompt=login``, or past
    ``max_age``; never when this very request's login made it."""
    if session is None:
        return True
    if stored.logged_in_session == session.id:
        return False
    max_age = stored.parameters.max_age
    too_old = max_age is not None and time.time() - session.auth_time >= max_age
    return "login" in stored.parameters.prompt or too_old


def request_key(request_id: str) -> UUID:
    """The stored request's id from the page's form; ``RequestExpired`` when it is not one."""
    try:
        return UUID(request_id)
    except ValueError:
        raise RequestExpired from None
