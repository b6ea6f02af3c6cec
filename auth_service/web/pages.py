"""``Pages``: how a hosted page is rendered, in one place, so no page can forget a defence.

A page controller (login, consent, device, logout) asks ``pages.page(request, "login.html",
context, locale=...)`` and gets a Litestar ``Template`` answer carrying the strict CSP, the
anti-framing and no-store headers, ``Content-Language``, and a context that always has ``t``
(the translator), ``locale``, ``brand``, ``static`` (versioned ``/static/`` URLs),
``csrf_field`` (the hidden input, safe markup) and ``languages`` (the language switch links).
Jinja autoescapes everything else. ``pages.error(...)`` renders ``error.html`` with message keys
only, so an error page never shows or links to anything the request said.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote_plus, urlencode

import msgspec
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Request
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig
from markupsafe import Markup, escape

from auth_service.browser_settings import WebSettings
from auth_service.web.csrf import CSRF_FIELD, CsrfTokens
from auth_service.web.headers import content_security_policy, page_headers
from auth_service.web.locale import LOCALES, choose_locale
from auth_service.web.messages import Catalogs, Translator
from auth_service.web.static import StaticFiles

__all__ = ["LANGUAGE_NAMES", "TEMPLATES_DIR", "Brand", "Language", "LanguageQuery", "Pages"]

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
LANGUAGE_NAMES: Final = {"en": "English", "pt-BR": "Português (Brasil)"}
"""Each language named in itself, as a language switch should."""

AnyRequest = Request[Any, Any, Any]
LanguageQuery = Mapping[str, str] | str | None
"""The parameters a language link keeps: a mapping, or a query string as sent (a parameter may
repeat)."""


def _kept_query(query: Mapping[str, str] | str) -> str:
    """``query`` encoded without its ``ui_locales``, which each language link sets."""
    if isinstance(query, str):
        parts = query.split("&")
        return "&".join(p for p in parts if p and unquote_plus(p.partition("=")[0]) != "ui_locales")
    return urlencode([(name, value) for name, value in query.items() if name != "ui_locales"])


class Brand(msgspec.Struct, frozen=True):
    """``brand`` in templates."""

    product_name: str
    logo_src: str | None
    """``<img src>`` of the logo, None: the product name in text."""
    theme_css: str | None
    """URL of the theme's ``theme.css`` (loaded after ours), None without one."""


class Language(msgspec.Struct, frozen=True):
    """One entry of the language switch: a plain link to this page in another language."""

    locale: str
    name: str
    href: str
    current: bool


def _brand(web: WebSettings, static: StaticFiles) -> Brand:
    logo: str | None = None
    if web.logo_url.startswith("https://"):
        logo = web.logo_url
    elif web.logo_url:
        if not static.has(f"theme/{web.logo_url}"):
            raise ValueError(f"AUTH_LOGO_URL {web.logo_url!r} is neither https: nor a file of AUTH_THEME_DIR")
        logo = static.url(f"theme/{web.logo_url}")
    theme = static.url("theme/theme.css") if static.has("theme/theme.css") else None
    return Brand(product_name=web.product_name, logo_src=logo, theme_css=theme)


class Pages:
    """Renders the hosted pages; built once (``wiring``), handed to every page controller."""

    __slots__ = ("_environment", "brand", "catalogs", "csrf", "default_locale", "static")

    def __init__(
        self,
        web: WebSettings,
        *,
        secure: bool,
        csrf_secret: bytes,
        templates: Sequence[Path] = (TEMPLATES_DIR,),
    ) -> None:
        """``templates``: the folders searched in order (tests add one with their own pages)."""
        self.catalogs = Catalogs.load()
        self.static = StaticFiles(web)
        self.brand = _brand(web, self.static)
        self.csrf = CsrfTokens(csrf_secret, secure=secure)
        self.default_locale = web.default_locale
        self._environment = Environment(
            loader=FileSystemLoader(list(templates)),
            autoescape=True,
            undefined=StrictUndefined,
            auto_reload=False,
        )

    def template_config(self) -> TemplateConfig[JinjaTemplateEngine]:
        """The app's template engine: Jinja over ``web/templates``, autoescape on."""
        return TemplateConfig(instance=JinjaTemplateEngine.from_environment(self._environment))

    def locale(self, request: AnyRequest, ui_locales: str | None = None) -> str:
        """The page's language: the query's ``ui_locales`` (the language switch), else the given
        one (an authorization request's), else ``Accept-Language``, else the default."""
        asked = request.query_params.get("ui_locales") or ui_locales
        return choose_locale(asked, request.headers.get("accept-language"), self.default_locale)

    def translator(self, locale: str) -> Translator:
        return self.catalogs.translator(locale)

    def _languages(
        self, request: AnyRequest, locale: str, query: LanguageQuery, path: str | None
    ) -> list[Language]:
        kept = _kept_query(request.scope["query_string"].decode("latin-1") if query is None else query)
        base = f"{path or request.url.path}?{kept}&" if kept else f"{path or request.url.path}?"
        return [
            Language(
                locale=other,
                name=LANGUAGE_NAMES[other],
                href=f"{base}{urlencode({'ui_locales': other})}",
                current=other == locale,
            )
            for other in LOCALES
        ]

    def page(
        self,
        request: AnyRequest,
        template: str,
        context: Mapping[str, Any],
        *,
        locale: str,
        status_code: int = 200,
        form_targets: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
        cookies: Sequence[Cookie] = (),
        query: LanguageQuery = None,
        language_switch: bool = True,
        language_path: str | None = None,
    ) -> Template:
        """``template`` rendered in ``locale``. ``form_targets``: URIs the page's forms may end up
        at after redirects (the client's redirect URI). ``query``: the parameters the language
        links keep (default: the request's; a POST-rendered page gives its GET's, e.g.
        ``{"request": id}``), and ``language_path`` the path they go to (default: this one)."""
        token, csrf_cookie = self.csrf.ensure(request)
        csp = content_security_policy(
            img_sources=[self.brand.logo_src] if self.brand.logo_src else (), form_targets=form_targets
        )
        answer_headers = page_headers(csp, locale)
        answer_headers.update(headers or {})
        full_context = {
            **context,
            "t": self.translator(locale),
            "locale": locale,
            "brand": self.brand,
            "static": self.static.url,
            "csrf_field": Markup('<input type="hidden" name="{}" value="{}">').format(
                CSRF_FIELD, escape(token)
            ),
            "languages": self._languages(request, locale, query, language_path) if language_switch else [],
        }
        return Template(
            template_name=template,
            context=full_context,
            status_code=status_code,
            headers=answer_headers,
            cookies=[*cookies, *([csrf_cookie] if csrf_cookie else [])],
            media_type=MediaType.HTML,
        )

    def error(
        self,
        request: AnyRequest,
        *,
        locale: str,
        status_code: int,
        title: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
    ) -> Template:
        """``error.html``: ``title`` and ``detail`` are message keys; no link, no request echo.
        A ``Retry-After`` in ``headers`` is also said in words."""
        retry_after = (headers or {}).get("Retry-After")
        context = {"title": title, "detail": detail, "retry_after": retry_after}
        return self.page(
            request,
            "error.html",
            context,
            locale=locale,
            status_code=status_code,
            headers=headers,
            language_switch=False,
        )
