"""A small app of probe pages on the real web foundation (``Pages`` + ``browser_router``).

The hosted pages themselves belong to other contexts; these probes exercise what every page gets
from the foundation. The app also has the shared problem+json plugin, so a test shows the browser
router's HTML error pages win over it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template
from litestar.testing import TestClient

from auth_service.browser_settings import WebSettings
from auth_service.throttling.errors import Throttled
from auth_service.web.pages import TEMPLATES_DIR, Pages
from auth_service.web.router import browser_router
from shared.http.problems import problem_details_plugin

PROBE_TEMPLATES = Path(__file__).parent / "templates"
AnyRequest = Request[Any, Any, Any]


def probe_app(pages: Pages) -> Litestar:
    @get("/probe", sync_to_thread=False)
    def form_page(request: AnyRequest) -> Template:
        shown = request.query_params.get("shown", "")
        targets = request.query_params.getall("target", [])
        return pages.page(
            request, "probe_form.html", {"shown": shown}, locale=pages.locale(request), form_targets=targets
        )

    @post("/probe")
    async def form_post(request: AnyRequest) -> Template:
        form = await request.form()
        return pages.page(request, "probe_form.html", {"shown": form.get("name", "")}, locale="en")

    @post("/cross-site", opt={"exclude_from_csrf": True})
    async def cross_site(request: AnyRequest) -> Template:
        return pages.page(request, "probe_form.html", {"shown": "exempt"}, locale="en")

    @get("/throttled", sync_to_thread=False)
    def throttled() -> None:
        raise Throttled("login", 4200)

    @get("/missing", sync_to_thread=False)
    def missing() -> None:
        raise NotFoundException("secret detail /etc/passwd")

    @get("/broken", sync_to_thread=False)
    def broken() -> None:
        raise RuntimeError("secret internal detail")

    @get("/away", sync_to_thread=False)
    def away() -> Redirect:
        return Redirect("/probe", status_code=303)

    @get("/api-like", sync_to_thread=False, opt={"exclude_from_auth": True})
    def outside() -> Response[dict[str, str]]:
        raise NotFoundException("outside the browser router")

    router = browser_router([form_page, form_post, cross_site, throttled, missing, broken, away], pages=pages)
    return Litestar(
        [pages.static.handler(), router, outside],
        template_config=pages.template_config(),
        plugins=[problem_details_plugin()],
        logging_config=None,
    )


PagesFactory = Callable[..., Pages]


@pytest.fixture
def make_pages() -> PagesFactory:
    def make(*, secure: bool = False, secret: bytes | None = None, **web: Any) -> Pages:
        return Pages(
            WebSettings(**web),
            secure=secure,
            csrf_secret=secret or os.urandom(32),
            templates=(TEMPLATES_DIR, PROBE_TEMPLATES),
        )

    return make


@pytest.fixture
def browser(make_pages: PagesFactory) -> Iterator[TestClient[Litestar]]:
    with TestClient(probe_app(make_pages())) as client:
        yield client
