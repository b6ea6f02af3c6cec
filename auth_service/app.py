"""``create_app(settings)``: the auth service as a Litestar app on the shared HTTP stack.

``build_services`` (``wiring.py``) makes the object graph; this module only says what is special
about this service: its routes (each context's factory, closed over the services it calls), the
paths served without a bearer token, its lifespan, and the RFC 6749 renderer for OAuth errors.
Nothing connects at import time or while building.
"""

from __future__ import annotations

from litestar import Litestar, Router
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler

from auth_service.audit.controllers import admin_audit_router
from auth_service.authorization.controllers import pushed_authorization_handler
from auth_service.browser_sessions.controllers import (
    admin_browser_sessions_router,
    my_browser_sessions_handlers,
)
from auth_service.clients.controllers import admin_clients_router
from auth_service.consents.controllers import admin_consents_router, my_consents_handlers
from auth_service.device.controllers import device_authorization_handler
from auth_service.device.pages import device_pages
from auth_service.discovery.controllers import discovery_handlers, userinfo_handler
from auth_service.factors.admin_controllers import admin_factors_router
from auth_service.keys.controllers import admin_keys_router
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.logout.pages import logout_pages
from auth_service.powers.service import (
    ADMIN_AUDIT,
    ADMIN_CLIENTS,
    ADMIN_KEYS,
    ADMIN_RESOURCES,
    ADMIN_ROLES,
    ADMIN_USERS,
)
from auth_service.resources.controllers import admin_resource_servers_router
from auth_service.roles.controllers import admin_roles_router
from auth_service.settings import AuthSettings
from auth_service.tokens.admin_controllers import admin_tokens_router
from auth_service.tokens.controllers import oauth_handlers
from auth_service.tokens.error_answers import oauth_error_answer
from auth_service.tokens.errors import OAuthError
from auth_service.users.admin_controllers import admin_sessions_router, admin_users_router
from auth_service.users.controllers import user_routers
from auth_service.web.router import browser_router
from auth_service.wiring import REALM, AuthServices, build_services
from shared.auth.litestar import requires_scopes
from shared.http.stack import ServiceDescription, create_service_app

__all__ = ["app_for", "create_app"]

PUBLIC_PATHS = (r"^/oauth/", r"^/\.well-known/")
BEARER_SCHEME = SecurityScheme(type="http", scheme="bearer", bearer_format="JWT (RFC 9068)")


def create_app(settings: AuthSettings, *, kek: KeyEncryptionKey | None = None) -> Litestar:
    """``kek`` defaults to the one the settings name (raises ``KeyEncryptionKeyError`` if none)."""
    return app_for(build_services(settings, kek=kek))


def _area(scope: str, *routers: Router) -> Router:
    """One admin area: every route under ``routers`` needs the area's own scope, and only that one."""
    return Router("/", route_handlers=list(routers), opt=requires_scopes(scope))


def _admin_router(services: AuthServices) -> Router:
    """``/api/1/admin``: one scope per area, so holding one area's power opens no other. Revoking
    any token is in two areas at once (``admin:users`` for a user's token, ``admin:clients`` for a
    client's), so that route checks which one the token needs itself."""
    actors = services.actors
    return Router(
        "/api/1/admin",
        route_handlers=[
            _area(
                ADMIN_USERS,
                admin_users_router(services.users, services.roles, services.user_sessions, actors),
                admin_sessions_router(services.user_sessions, actors),
                admin_browser_sessions_router(services.browser.browser_sessions, services.users, actors),
                admin_consents_router(services.browser.consents, services.users, actors),
                admin_factors_router(services.browser.factors.admin, actors),
            ),
            _area(ADMIN_ROLES, admin_roles_router(services.roles, actors)),
            _area(ADMIN_CLIENTS, admin_clients_router(services.clients, actors)),
            _area(ADMIN_RESOURCES, admin_resource_servers_router(services.resource_servers, actors)),
            _area(ADMIN_KEYS, admin_keys_router(services.signing_keys, actors)),
            _area(ADMIN_AUDIT, admin_audit_router(services.audit)),
            admin_tokens_router(services.admin_tokens, actors, REALM),
        ],
        security=[{"bearer": []}],
    )


def _my_sessions_and_consents(services: AuthServices) -> Router:
    """``/api/1/users/me/browser-sessions`` and ``/consents``: the bearer token's person's own."""
    return Router(
        "/api/1/users/me",
        route_handlers=[
            *my_browser_sessions_handlers(services.browser.browser_sessions),
            *my_consents_handlers(services.browser.consents, services.actors),
        ],
        tags=["Users"],
        security=[{"bearer": []}],
    )


def _browser_pages(services: AuthServices) -> Router:
    """The hosted pages (login, consent, device, logout): no bearer token, CSRF on every form, the
    security headers and HTML error pages (``web/router.py``). Each context's page handlers go here."""
    pages, front_door = services.browser.pages, services.browser.front_door
    sessions, cookie, actors = (
        services.browser.browser_sessions,
        services.browser.session_cookie,
        services.actors,
    )
    return browser_router(
        [
            *device_pages(services.browser.device, sessions, cookie, services.users, pages, actors),
            *logout_pages(services.browser.logout, sessions, cookie, services.users, pages, actors),
            *front_door.pages(
                sessions,
                cookie,
                pages,
                actors,
                services.resource_registry,
                services.settings.oauth,
                login_extras=services.browser.passkeys.login_page,
            ),
            *services.browser.passkeys.pages(
                sessions, cookie, pages, actors, (front_door.second_step, front_door.second_cookie)
            ),
            *services.browser.account.pages(sessions, cookie, pages, actors),
            *services.mail.pages(services.users, sessions, cookie, pages, actors),
        ],
        pages=pages,
    )


def app_for(services: AuthServices) -> Litestar:
    """The app over an object graph already built (tests keep the graph to seed through it)."""
    settings, oauth = services.settings, services.oauth
    routes: list[ControllerRouterHandler] = [
        *oauth_handlers(
            oauth.tokens,
            oauth.revocation,
            oauth.introspection,
            limits=settings.oauth,
            actors=services.actors,
            metrics=services.metrics,
        ),
        *discovery_handlers(
            services.metadata, services.signing_keys.keyring, max_age=settings.keys.jwks_max_age
        ),
        *user_routers(services.accounts, services.actors),
        _my_sessions_and_consents(services),
        userinfo_handler(services.userinfo),
        services.mail.api_router(services.actors),
        device_authorization_handler(services.browser.device, settings.oauth),
        pushed_authorization_handler(services.browser.front_door.pushed, settings.oauth),
        _admin_router(services),
        services.browser.pages.static.handler(),
        _browser_pages(services),
    ]
    return create_service_app(
        ServiceDescription(
            name="auth-service",
            title="Auth service",
            route_handlers=routes,
            metrics=services.metrics,
            verifier=services.bearer_verifier,
            realm=REALM,
            limits=settings.http,
            readiness=services.readiness(),
            scraped_dependencies=services.scraped_dependencies(),
            public_paths=PUBLIC_PATHS,
            components=Components(security_schemes={"bearer": BEARER_SCHEME}),
            lifespan=[services.running],
            exception_handlers={OAuthError: oauth_error_answer},
            template_config=services.browser.pages.template_config(),
        )
    )
