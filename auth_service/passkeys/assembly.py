"""``Passkeys``: the relying party, its services, the passwordless login and the ceremony cookie.

Kept here so the wiring adds one line to build it and the app one line for its routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar.handlers import HTTPRouteHandler

from auth_service.actors import RequestActors
from auth_service.audit.service import AuditTrail
from auth_service.authorization.second_step import SecondStep
from auth_service.authorization.second_step_cookie import SecondStepCookie
from auth_service.authorization.service import AuthorizationService
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSessions
from auth_service.factors.enrolment import Enrolments
from auth_service.factors.service import SecondFactors
from auth_service.passkeys.account_section import PasskeySection
from auth_service.passkeys.assertions import PasskeyAssertions
from auth_service.passkeys.challenges import CeremonyChallenges
from auth_service.passkeys.controllers import passkey_pages
from auth_service.passkeys.cookies import CeremonyCookie
from auth_service.passkeys.factor_source import FactorsLink, PasskeyFactors
from auth_service.passkeys.login import PasskeyLogin
from auth_service.passkeys.login_challenges import LoginChallenges
from auth_service.passkeys.relying_party import RelyingParty
from auth_service.passkeys.second_factor_pages import second_factor_pages
from auth_service.passkeys.service import FactorLink, PasskeyService
from auth_service.settings import AuthSettings
from auth_service.web.pages import Pages
from shared.db.pool import PostgresPool

__all__ = ["Passkeys"]


@dataclass(frozen=True, slots=True)
class Passkeys:
    service: PasskeyService
    """Registering and managing a person's passkeys."""
    assertions: PasskeyAssertions
    """Using one: the passwordless login's and the second factor's options and verification."""
    login: PasskeyLogin
    login_challenges: LoginChallenges
    """The passwordless login's challenges, carried by the login page."""
    ceremony: CeremonyCookie
    limit: int

    @classmethod
    def build(
        cls,
        settings: AuthSettings,
        pool: PostgresPool,
        audit: AuditTrail,
        *,
        sessions: BrowserSessions,
        authorization: AuthorizationService,
        login_key: bytes,
        factors: tuple[SecondFactors, Enrolments] | None = None,
    ) -> Passkeys:
        """``login_key`` signs the passwordless login's challenges (``login_challenges.py``);
        ``factors``: passkeys become a source of second factors (``factor_source.py``), and the
        factors context takes part in every change; without them passkeys stand alone."""
        config, issuer = settings.passkeys, settings.tokens.issuer
        link: FactorLink | None = None
        if factors is not None:
            second_factors, enrolments = factors
            second_factors.add_source(PasskeyFactors())
            link = FactorsLink(second_factors, enrolments)
        party = RelyingParty(config, issuer=issuer)
        challenges = CeremonyChallenges(pool, config.webauthn_ceremony_ttl)
        login_challenges = LoginChallenges(login_key, config.webauthn_ceremony_ttl)
        assertions = PasskeyAssertions(pool, party, challenges, audit, login_challenges)
        return cls(
            service=PasskeyService(pool, party, challenges, config, audit, link),
            assertions=assertions,
            login=PasskeyLogin(assertions, sessions, authorization),
            login_challenges=login_challenges,
            ceremony=CeremonyCookie(
                secure=issuer.startswith("https://"), max_age=config.webauthn_ceremony_ttl
            ),
            limit=config.webauthn_max_passkeys,
        )

    def login_page(self) -> Mapping[str, Any]:
        """What the login page adds for its passkey button: the options, challenge included."""
        return {"passkey_options": self.assertions.login_options()}

    @property
    def section(self) -> PasskeySection:
        """The account page's passkey section (``AccountServices.sections``)."""
        return PasskeySection(self.service, self.limit)

    def pages(
        self,
        sessions: BrowserSessions,
        cookie: SessionCookie,
        pages: Pages,
        actors: RequestActors,
        second_step: tuple[SecondStep, SecondStepCookie] | None = None,
    ) -> list[HTTPRouteHandler]:
        """``/passkeys/login...``, ``/account/passkeys...`` and, given the login's second step,
        ``/passkeys/second-factor...``, for the browser router."""
        second: list[HTTPRouteHandler] = []
        if second_step is not None:
            step, pending = second_step
            cookies = (cookie, pending, self.ceremony)
            second = second_factor_pages(self.assertions, step, cookies, sessions, pages, actors)
        return [
            *second,
            *passkey_pages(
                self.login,
                self.assertions,
                self.service,
                self.ceremony,
                sessions,
                cookie,
                pages,
                actors,
                limit=self.limit,
            ),
        ]
