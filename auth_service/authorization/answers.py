"""Turning an ``Answer`` into HTTP: a 303 to our page, a 303 to the client, or a form_post page.

``response_mode=query`` appends the parameters to the redirect URI (keeping a registered query,
RFC 6749 section 3.1.2); ``form_post`` (OAuth 2.0 Form Post Response Mode) renders a page whose
form POSTs them to the redirect URI, auto-submitted by ``/static/form_post.js`` (a same-origin
file: the CSP allows no inline script) with a visible button for a browser without JavaScript.
Either way the parameters never appear in a URL of ours, and every answer is no-store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect

from auth_service.authorization.service import Answer, ToPage
from auth_service.web.pages import Pages

__all__ = ["respond"]

AnyRequest = Request[Any, Any, Any]


def respond(
    pages: Pages, request: AnyRequest, answer: Answer, *, locale: str, cookies: Sequence[Cookie] = ()
) -> Response[Any]:
    if isinstance(answer, ToPage):
        return Redirect(answer.path, status_code=303, cookies=list(cookies))
    reply = answer.reply
    if reply.response_mode == "form_post":
        context = {"action": reply.redirect_uri, "params": sorted(answer.params.items())}
        return pages.page(
            request,
            "form_post.html",
            context,
            locale=locale,
            form_targets=[reply.redirect_uri],
            cookies=cookies,
            language_switch=False,
        )
    separator = "&" if "?" in reply.redirect_uri else "?"
    location = reply.redirect_uri + separator + urlencode(answer.params)
    return Redirect(location, status_code=303, cookies=list(cookies))
