"""``GET|POST /consent``: what a third-party app asks, in plain words, and the person's answer.

The page needs the live session of the request's login (else back to ``/login``). Each scope is
shown with its words from the catalogs (``consent.scope.<scope>``) when it has them, else by its
name and the resource server that owns it. Allow remembers the grant (``Consents``) and answers
the app with a code; deny answers it ``access_denied``. The POST needs the CSRF token.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, QueryParameter
from litestar.response import Redirect

from auth_service.actors import RequestActors
from auth_service.audit.service import Actor
from auth_service.authorization.answers import respond
from auth_service.authorization.errors import RequestExpired
from auth_service.authorization.service import AuthorizationService
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSessions
from auth_service.resources.registry import ResourceRegistry
from auth_service.web.messages import Translator
from auth_service.web.pages import Pages

__all__ = ["ConsentForm", "ScopeLine", "consent_pages", "scope_lines"]

AnyRequest = Request[Any, Any, Any]


class ConsentForm(msgspec.Struct, frozen=True):
    request: str = ""
    action: str = ""


class ScopeLine(msgspec.Struct, frozen=True):
    name: str
    label: str | None
    """Plain words for it, when the catalog has them."""
    owner: str | None
    """The resource server owning a scope without words (None for one with words)."""


def scope_lines(t: Translator, registry: ResourceRegistry, scopes: list[str]) -> list[ScopeLine]:
    lines = []
    for scope in scopes:
        key = f"consent.scope.{scope}"
        label = t(key) if t.has(key) else None
        lines.append(ScopeLine(scope, label, None if label else registry.owner_of(scope)))
    return lines


def consent_pages(
    authorization: AuthorizationService,
    sessions: BrowserSessions,
    cookie: SessionCookie,
    pages: Pages,
    actors: RequestActors,
    registry: ResourceRegistry,
) -> list[HTTPRouteHandler]:
    @get("/consent", name="consent")
    async def consent_page(
        request: AnyRequest, request_id: Annotated[str | None, QueryParameter(name="request")] = None
    ) -> Response[Any]:
        pending = await authorization.pending(request_id or "")
        session = await sessions.current(cookie.read(request))
        scopes = await authorization.consent_scopes(pending, session)
        if scopes is None:
            return Redirect(f"/login?request={pending.request.id}", status_code=303)
        parameters = pending.request.parameters
        locale = pages.locale(request, parameters.ui_locales)
        context = {
            "request_id": str(pending.request.id),
            "client_name": pending.client.client_name,
            "scopes": scope_lines(pages.translator(locale), registry, scopes),
        }
        return pages.page(
            request,
            "consent.html",
            context,
            locale=locale,
            form_targets=[parameters.reply.redirect_uri],
            query={"request": str(pending.request.id)},
        )

    @post("/consent", name="consent_answer", status_code=200)
    async def consent_answer(
        request: AnyRequest, data: Annotated[ConsentForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
    ) -> Response[Any]:
        if data.action not in ("allow", "deny"):
            raise RequestExpired("The consent form was not answered.")
        session = await sessions.current(cookie.read(request))
        actor = Actor(id=str(session.user_id) if session else None, source_ip=actors.client_ip(request))
        answer = await authorization.consent(data.request, session, allow=data.action == "allow", actor=actor)
        return respond(pages, request, answer, locale=pages.locale(request))

    return [consent_page, consent_answer]
