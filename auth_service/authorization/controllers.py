"""``GET|POST /oauth/authorize`` (RFC 6749 section 4.1.1, OpenID Connect Core 3.1.2.1) and
``POST /oauth/par`` (RFC 9126).

A hosted page route (``web/router.py``): no bearer token, HTML error pages, the security headers.
POST is CSRF-exempt: apps send it cross-site by design, and it changes nothing the person owns
(it only stores the request and decides where to go). The parameters are bounded as at the token
endpoint (``AUTH_OAUTH_MAX_PARAMS``, ``AUTH_OAUTH_MAX_PARAM_CHARS``) before anything reads them.
The PAR endpoint is an OAuth endpoint, not a page: its form is read like the token endpoint's and
its errors are RFC 6749 JSON (``pushed.py``).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import MultiDict
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec

from auth_service.authorization.answers import respond
from auth_service.authorization.login_pages import LoginPages
from auth_service.authorization.parameters import bounded_query
from auth_service.authorization.pushed import PushedRequest, PushedRequests
from auth_service.authorization.service import AuthorizationService, ToLogin
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.openapi_forms import form_operation
from auth_service.settings import OAuthSettings
from auth_service.tokens.controllers import CLIENT_FIELDS, OAUTH_ERRORS, OAuthErrorBody, form_reader
from auth_service.tokens.error_answers import json_answer
from auth_service.web.pages import Pages

__all__ = ["authorization_handlers", "pushed_authorization_handler"]

AnyRequest = Request[Any, Any, Any]
_PAR_ROUTE: dict[str, Any] = {
    "operation_id": "pushedAuthorizationRequest",
    "summary": "Push an authorization request (RFC 9126); then send the browser to /oauth/authorize "
    "with client_id and request_uri",
    "tags": ["OAuth 2.0"],
    "status_code": 201,
    "responses": {
        400: ResponseSpec(OAuthErrorBody, description="invalid_request, invalid_scope, invalid_target, ..."),
        401: OAUTH_ERRORS[401],
    },
    "operation_class": form_operation(
        {
            **CLIENT_FIELDS,
            "response_type": "code",
            "redirect_uri": "A redirect URI registered for the client",
            "code_challenge": "PKCE (RFC 7636): the S256 challenge",
            "code_challenge_method": "S256",
            "scope": "Space-separated scopes (openid profile email and resource scopes)",
            "resource": "RFC 8707: a resource server's identifier the tokens are for (may repeat)",
            "state": "Returned with the authorization response",
            "response_mode": "query | form_post",
            "nonce": "Returned in the ID token",
            "prompt": "none | login | consent",
            "max_age": "Seconds since the last login beyond which the person logs in again",
            "login_hint": "The email to prefill",
            "ui_locales": "en | pt-BR",
            "acr_values": "Requested authentication context classes",
        },
        ["response_type", "redirect_uri", "code_challenge", "code_challenge_method"],
    ),
}


def authorization_handlers(
    authorization: AuthorizationService,
    cookie: SessionCookie,
    pages: Pages,
    limits: OAuthSettings,
    login: LoginPages,
) -> list[HTTPRouteHandler]:
    """``login``: renders the login form a request needs (``ToLogin``)."""

    async def answer(request: AnyRequest, items: list[tuple[str, Any]], as_sent: str | None) -> Response[Any]:
        query = bounded_query(items, limits.oauth_max_params, limits.oauth_max_param_chars)
        decided = await authorization.authorize(query, cookie.read(request), as_sent=as_sent)
        if isinstance(decided, ToLogin):
            return login.carried_form(request, decided)
        asked = None if "request_uri" in query else query.get("ui_locales")  # RFC 9126 section 4
        return respond(pages, request, decided, locale=pages.locale(request, asked[0] if asked else None))

    @get("/oauth/authorize", name="authorize")
    async def authorize(request: AnyRequest) -> Response[Any]:
        params: MultiDict[str] = request.query_params
        sent = request.scope["query_string"].decode("latin-1")
        return await answer(request, list(params.multi_items()), sent if sent.isascii() else None)

    @post("/oauth/authorize", name="authorize_form", status_code=200, opt={"exclude_from_csrf": True})
    async def authorize_form(request: AnyRequest) -> Response[Any]:
        form = await request.form()
        return await answer(request, list(form.multi_items()), None)

    return [authorize, authorize_form]


def pushed_authorization_handler(pushed: PushedRequests, limits: OAuthSettings) -> HTTPRouteHandler:
    read_form = form_reader(limits)

    @post("/oauth/par", **_PAR_ROUTE)
    async def pushed_authorization(request: AnyRequest) -> Response[PushedRequest]:
        form = await read_form(request)
        return json_answer(await pushed.push(form, request.headers.get("authorization")), 201)

    return pushed_authorization
