"""RP-Initiated Logout 1.0: an app sends the browser to ``end_session_endpoint`` to end the SSO session.

Checks, before anything ends: an ``id_token_hint`` must be one of ours (signature and issuer; an
expired one is fine: logging out comes after its life); ``client_id`` and the hint's ``aud`` must
agree; a ``post_logout_redirect_uri`` must be registered for that client (exact match, the loopback
port exception of ``redirect_uri_registered``), and without a client to check it against it is
refused. Every refusal is an error page, never a redirect: a logout link must not be an open
redirect. Then the session ends at once when the hint names it (its ``sid``) or there is none;
otherwise the person confirms (someone else's link could log them out: section 6). Ending revokes
the families the session created and tells the back-channel hooks (``BrowserSessions.end``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

import msgspec

from auth_service.audit.service import Actor
from auth_service.browser_sessions.service import BrowserSession, BrowserSessions
from auth_service.clients.directory import ClientDirectory
from auth_service.clients.redirect_uris import redirect_uri_registered

__all__ = ["HintClaims", "LogoutRefused", "LogoutRequest", "RpLogout", "with_state"]

MAX_STATE_CHARS = 2000


class HintClaims(Protocol):
    """What a verified ``id_token_hint`` says (``oidc/id_tokens.py``)."""

    @property
    def sub(self) -> str: ...
    @property
    def aud(self) -> str: ...
    @property
    def sid(self) -> str | None: ...


HintVerifier = Callable[[str], HintClaims | None]


class LogoutRefused(Exception):
    """The request cannot be honoured as sent; ``detail`` is the error page's message key."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class LogoutRequest(msgspec.Struct, frozen=True):
    """A checked logout request: what the confirmation form carries and what the ending needs."""

    client_id: str | None
    client_name: str | None
    post_logout_redirect_uri: str | None
    state: str | None
    ui_locales: str | None
    hint_sid: str | None = None
    """The verified hint's session: ``None`` without a hint (or one without ``sid``)."""

    def form(self) -> dict[str, str]:
        """The confirmation form's hidden fields (checked again when it comes back)."""
        fields = {
            "client_id": self.client_id,
            "post_logout_redirect_uri": self.post_logout_redirect_uri,
            "state": self.state,
            "ui_locales": self.ui_locales,
        }
        return {name: value for name, value in fields.items() if value is not None}


def with_state(uri: str, state: str | None) -> str:
    """``uri`` with ``state`` added to its query (RP-Initiated Logout section 3)."""
    if state is None:
        return uri
    parts = urlsplit(uri)
    query = f"{parts.query}&{urlencode({'state': state})}" if parts.query else urlencode({"state": state})
    return urlunsplit(parts._replace(query=query))


class RpLogout:
    __slots__ = ("_clients", "_sessions", "_verify_hint")

    def __init__(
        self, clients: ClientDirectory, sessions: BrowserSessions, verify_hint: HintVerifier
    ) -> None:
        self._clients = clients
        self._sessions = sessions
        self._verify_hint = verify_hint

    async def check(self, params: Mapping[str, str], *, hint_allowed: bool = True) -> LogoutRequest:
        """The request ``params`` make, or ``LogoutRefused``. The confirmation form comes back
        without a hint (``hint_allowed`` false): its client was settled when it was shown."""
        client_id = params.get("client_id")
        hint_sid = None
        token = params.get("id_token_hint")
        if token is not None:
            if not hint_allowed:
                raise LogoutRefused("logout.error.bad_request")
            hint = self._verify_hint(token)
            if hint is None:
                raise LogoutRefused("logout.error.bad_hint")
            if client_id is not None and client_id != hint.aud:
                raise LogoutRefused("logout.error.client_mismatch")
            client_id, hint_sid = hint.aud, hint.sid
        state = params.get("state")
        if state is not None and len(state) > MAX_STATE_CHARS:
            raise LogoutRefused("logout.error.bad_request")
        client_name, uri = None, params.get("post_logout_redirect_uri")
        if client_id is not None:
            client = await self._clients.get(client_id)
            if client is None:
                raise LogoutRefused("logout.error.unknown_client")
            client_name = client.client_name
            if uri is not None and not redirect_uri_registered(client.post_logout_redirect_uris, uri):
                raise LogoutRefused("logout.error.unregistered_uri")
        elif uri is not None:
            raise LogoutRefused("logout.error.uri_without_client")
        return LogoutRequest(
            client_id=client_id,
            client_name=client_name,
            post_logout_redirect_uri=uri,
            state=state,
            ui_locales=params.get("ui_locales"),
            hint_sid=hint_sid,
        )

    @staticmethod
    def ends_at_once(request: LogoutRequest, session: BrowserSession | None) -> bool:
        """No session to end, or the hint names this one: no need to ask."""
        return session is None or (request.hint_sid is not None and request.hint_sid == str(session.id))

    async def end(self, session: BrowserSession | None, actor: Actor) -> None:
        if session is not None:
            await self._sessions.end(session.id, "logout", actor)

    @staticmethod
    def destination(request: LogoutRequest) -> str | None:
        """Where the browser goes afterwards (with ``state``), or None for our "logged out" page."""
        if request.post_logout_redirect_uri is None:
            return None
        return with_state(request.post_logout_redirect_uri, request.state)
