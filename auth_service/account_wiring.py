"""The account-security part of the object graph: second factors, and the account page's services.

Apart from ``wiring.py`` only to keep each module short; both are built by the browser front
door's wiring (``browser_wiring.py``: the login's second step needs the factors, the account
page the browser sessions, consents and other contexts' sections). ``notices`` is where security
notices go (the mail context's outbox); ``None`` sends none (the audit trail records every change
either way).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from litestar.handlers import HTTPRouteHandler

from auth_service.account.controllers import account_pages
from auth_service.account.pages import AccountSection
from auth_service.account.service import AccountService
from auth_service.actors import RequestActors
from auth_service.audit.service import AuditTrail
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSessions
from auth_service.consents.service import Consents
from auth_service.factors.admin import FactorAdministration
from auth_service.factors.enrolment import Enrolments
from auth_service.factors.notices import SecurityNoticeHook
from auth_service.factors.service import SecondFactors
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.passwords.hashing import PasswordHashing
from auth_service.settings import AuthSettings
from auth_service.throttling.limits import Throttles
from auth_service.throttling.second_factor import SecondFactorThrottle
from auth_service.tokens.sessions import SessionService
from auth_service.users.service import UserService
from auth_service.web.pages import Pages
from shared.db.pool import PostgresPool

__all__ = ["AccountServices", "FactorServices", "build_account_services", "build_second_factors"]


@dataclass(frozen=True, slots=True)
class FactorServices:
    """Second factors: the login's policy and checks, enrolment, and the admin's view and reset."""

    factors: SecondFactors
    enrolments: Enrolments
    admin: FactorAdministration


def build_second_factors(
    settings: AuthSettings,
    pool: PostgresPool,
    audit: AuditTrail,
    kek: KeyEncryptionKey,
    throttles: Throttles,
    sessions: SessionService,
    notices: SecurityNoticeHook | None = None,
    *,
    clock: Callable[[], float] = time.time,
) -> FactorServices:
    mfa = settings.mfa
    throttle = SecondFactorThrottle(
        throttles.store,
        threshold=mfa.second_factor_lockout_threshold,
        max_lock_seconds=mfa.second_factor_lockout_max_seconds,
        reset_seconds=mfa.second_factor_lockout_reset_seconds,
        ip_max_failures=mfa.second_factor_ip_max_failures,
        ip_window_seconds=mfa.second_factor_ip_window_seconds,
    )
    factors = SecondFactors(pool, kek, audit, throttle, notices=notices, clock=clock)
    enrolments = Enrolments(
        pool, kek, audit, factors, issuer=mfa.totp_issuer, enrolment_ttl=mfa.second_step_ttl
    )
    return FactorServices(factors, enrolments, FactorAdministration(pool, factors, sessions, audit))


@dataclass(frozen=True, slots=True)
class AccountServices:
    """The account page's service; ``sections`` are parts of the page other contexts add
    (passkeys), before the app is made from the graph."""

    account: AccountService
    sections: list[AccountSection] = field(default_factory=list)

    def pages(
        self, sessions: BrowserSessions, cookie: SessionCookie, pages: Pages, actors: RequestActors
    ) -> list[HTTPRouteHandler]:
        """``/account...``, for the browser router."""
        return account_pages(self.account, sessions, cookie, pages, actors, self.sections)


def build_account_services(
    pool: PostgresPool,
    users: UserService,
    sessions: BrowserSessions,
    consents: Consents,
    factors: FactorServices,
    hashing: PasswordHashing,
    throttles: Throttles,
    sections: Sequence[AccountSection] = (),
) -> AccountServices:
    """``sections``: the parts of the account page other contexts add (passkeys)."""
    account = AccountService(
        pool,
        users,
        sessions,
        consents,
        factors.factors,
        factors.enrolments,
        hashing,
        throttles.password_change,
    )
    return AccountServices(account, list(sections))
