"""``FrontDoor``: the authorization endpoint, its login form, its second step and PAR, built from
the wiring's parts.

Kept here so ``wiring.py`` and ``app.py`` add one line each for the whole browser front door;
its page controllers (``controllers``, ``login_pages``, ``consent_pages``) close over these two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from litestar.handlers import HTTPRouteHandler

from auth_service.actors import RequestActors
from auth_service.audit.service import AuditTrail
from auth_service.authorization.consent_pages import consent_pages
from auth_service.authorization.controllers import authorization_handlers
from auth_service.authorization.login import BrowserLogin
from auth_service.authorization.login_pages import LoginPages
from auth_service.authorization.pushed import PushedRequests
from auth_service.authorization.second_step import SecondStep
from auth_service.authorization.second_step_cookie import SecondStepCookie
from auth_service.authorization.second_step_pages import second_step_pages
from auth_service.authorization.service import AuthorizationService
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSessions
from auth_service.clients.authentication import ClientAuthenticator
from auth_service.clients.directory import ClientDirectory
from auth_service.consents.service import Consents
from auth_service.factors.enrolment import Enrolments
from auth_service.factors.service import SecondFactors
from auth_service.passwords.hashing import PasswordHashing
from auth_service.resources.registry import ResourceRegistry
from auth_service.settings import AuthSettings, OAuthSettings
from auth_service.tokens.audience import AudienceResolver
from auth_service.tokens.credentials import CredentialCheck
from auth_service.tokens.fresh_codes import FreshCodes
from auth_service.tokens.login_guard import LoginGuard
from auth_service.web.pages import Pages
from shared.db.pool import PostgresPool

__all__ = ["FrontDoor"]


@dataclass(frozen=True, slots=True)
class FrontDoor:
    authorization: AuthorizationService
    login: BrowserLogin
    pushed: PushedRequests
    """``POST /oauth/par`` (an OAuth endpoint outside the browser router: ``app.py``)."""
    second_step: SecondStep
    """The login's second factor; another kind of factor finishes a login through its ``finish``."""
    second_cookie: SecondStepCookie
    factors: SecondFactors
    enrolments: Enrolments

    @classmethod
    def build(
        cls,
        settings: AuthSettings,
        pool: PostgresPool,
        audit: AuditTrail,
        *,
        clients: ClientDirectory,
        audiences: AudienceResolver,
        consents: Consents,
        sessions: BrowserSessions,
        hashing: PasswordHashing,
        guard: LoginGuard,
        on_login_failure: Callable[[str], None] | None,
        factors: SecondFactors,
        enrolments: Enrolments,
        fresh_codes: FreshCodes,
    ) -> FrontDoor:
        authorization = AuthorizationService(
            pool,
            settings.login,
            issuer=settings.tokens.issuer,
            clients=clients,
            audiences=audiences,
            consents=consents,
            factors=factors,
            fresh=fresh_codes,
            sessions=sessions,
            limits=settings.oauth,
        )
        ttl = settings.mfa.second_step_ttl
        second_step = SecondStep(pool, authorization, sessions, factors, ttl=ttl)
        second_cookie = SecondStepCookie(secure=settings.tokens.issuer.startswith("https://"), max_age=ttl)
        credentials = CredentialCheck(pool, hashing, audit, guard, on_login_failure)
        pushed = PushedRequests(pool, ClientAuthenticator(clients), audiences)
        login = BrowserLogin(credentials, sessions, authorization, second_step)
        return cls(authorization, login, pushed, second_step, second_cookie, factors, enrolments)

    def pages(
        self,
        sessions: BrowserSessions,
        cookie: SessionCookie,
        pages: Pages,
        actors: RequestActors,
        registry: ResourceRegistry,
        limits: OAuthSettings,
        login_extras: Callable[[], Mapping[str, Any]] = dict,
    ) -> list[HTTPRouteHandler]:
        """``/oauth/authorize``, ``/login``, ``/login/second-factor`` and ``/consent``, for the
        browser router; ``login_extras`` adds to each login page (the passkey button's options)."""
        login = LoginPages(
            self.authorization, self.login, sessions, cookie, pages, actors, self.second_cookie, login_extras
        )
        return [
            *authorization_handlers(self.authorization, cookie, pages, limits, login),
            *login.handlers(),
            *self._second_step_pages(sessions, cookie, pages, actors),
            *consent_pages(self.authorization, sessions, cookie, pages, actors, registry),
        ]

    def _second_step_pages(
        self, sessions: BrowserSessions, cookie: SessionCookie, pages: Pages, actors: RequestActors
    ) -> list[HTTPRouteHandler]:
        cookies = (cookie, self.second_cookie)
        parts = (self.second_step, self.authorization, self.factors, self.enrolments)
        return second_step_pages(*parts, cookies, sessions, pages, actors)
