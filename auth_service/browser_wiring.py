"""The browser front door's part of the object graph: pages, SSO sessions, consents, the
authorization endpoint, the device flow and logout (``build_browser_services``).

Apart from ``wiring.py`` only to keep each module short; built by ``build_services`` from the
parts the rest of the graph already made (pool, audit trail, client directory, audiences, token
sessions), never connecting while building. Back-channel logout is the one part that runs in the
background: ``AuthServices.running`` starts and stops it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from auth_service.account_wiring import (
    AccountServices,
    FactorServices,
    build_account_services,
    build_second_factors,
)
from auth_service.audit.service import AuditTrail
from auth_service.authorization.assembly import FrontDoor
from auth_service.browser_sessions.cookies import SessionCookie
from auth_service.browser_sessions.service import BrowserSessions
from auth_service.clients.authentication import ClientAuthenticator
from auth_service.clients.directory import ClientDirectory
from auth_service.consents.service import Consents
from auth_service.device.service import DeviceAuthorizations
from auth_service.factors.notices import SecurityNoticeHook
from auth_service.keys.keyring import Keyring
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.logout.backchannel import BackchannelLogout
from auth_service.logout.service import RpLogout
from auth_service.metrics import AuthMetrics
from auth_service.oidc.id_tokens import IdTokenHints
from auth_service.passkeys.assembly import Passkeys
from auth_service.passwords.hashing import PasswordHashing
from auth_service.settings import AuthSettings
from auth_service.throttling.limits import Throttles
from auth_service.tokens.audience import AudienceResolver
from auth_service.tokens.fresh_codes import FreshCodes
from auth_service.tokens.sessions import SessionService
from auth_service.users.service import UserService
from auth_service.web.pages import Pages
from shared.auth.keys import KeySource
from shared.db.pool import PostgresPool

__all__ = ["BrowserServices", "GraphParts", "build_browser_services"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphParts:
    """What the front door shares with the rest of the graph."""

    pool: PostgresPool
    audit: AuditTrail
    metrics: AuthMetrics
    kek: KeyEncryptionKey
    keyring: Keyring
    own_keys: KeySource
    directory: ClientDirectory
    audiences: AudienceResolver
    sessions: SessionService
    hashing: PasswordHashing
    throttles: Throttles
    fresh_codes: FreshCodes = field(default_factory=FreshCodes)
    """The codes the authorization endpoint just issued, for the token endpoint of this process."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BrowserServices:
    """The hosted pages' services; tests reach the same ones the handlers use."""

    pages: Pages
    browser_sessions: BrowserSessions
    session_cookie: SessionCookie
    consents: Consents
    front_door: FrontDoor
    device: DeviceAuthorizations
    logout: RpLogout
    backchannel_logout: BackchannelLogout
    factors: FactorServices
    account: AccountServices
    passkeys: Passkeys


def build_browser_services(
    settings: AuthSettings,
    parts: GraphParts,
    users: UserService,
    clock: Callable[[], float] = time.time,
    *,
    notices: SecurityNoticeHook | None = None,
) -> BrowserServices:
    """Ending a browser session (logout, an admin) notifies its apps' back-channel URIs; ``clock``
    is the second factors' (TOTP time steps), which tests move; ``notices`` mails the person of a
    factor added, removed or reset and of a recovery code used (the mail context's outbox)."""
    pool, audit, issuer = parts.pool, parts.audit, settings.tokens.issuer
    secure = issuer.startswith("https://")
    browser_sessions = BrowserSessions(pool, settings.login, parts.sessions, audit)
    backchannel = BackchannelLogout(
        parts.keyring, parts.directory, parts.metrics, issuer=issuer,
        timeout=settings.device.backchannel_logout_timeout,
    )  # fmt: skip
    browser_sessions.on_ended(backchannel.notify)
    consents = Consents(pool, parts.sessions, audit)
    factors = build_second_factors(
        settings, pool, audit, parts.kek, parts.throttles, parts.sessions, clock=clock, notices=notices
    )
    front_door = FrontDoor.build(
        settings, pool, audit, clients=parts.directory, audiences=parts.audiences, consents=consents,
        sessions=browser_sessions, hashing=parts.hashing, guard=parts.throttles.login,
        on_login_failure=parts.metrics.login_failure, factors=factors.factors, enrolments=factors.enrolments,
        fresh_codes=parts.fresh_codes,
    )  # fmt: skip
    device = DeviceAuthorizations(
        pool, ClientAuthenticator(parts.directory), parts.audiences, audit, settings.device,
        issuer=issuer, attempts=parts.throttles.device_codes,
    )  # fmt: skip
    passkeys = Passkeys.build(
        settings, pool, audit, sessions=browser_sessions, authorization=front_door.authorization,
        login_key=parts.kek.derive("passkey-login"), factors=(factors.factors, factors.enrolments),
    )  # fmt: skip
    hints = IdTokenHints(parts.own_keys, issuer=issuer).verify_id_token_hint
    account = build_account_services(
        pool, users, browser_sessions, consents, factors, parts.hashing, parts.throttles, [passkeys.section]
    )
    return BrowserServices(
        pages=Pages(settings.web, secure=secure, csrf_secret=parts.kek.derive("csrf")),
        browser_sessions=browser_sessions,
        session_cookie=SessionCookie(secure=secure, max_age=settings.login.session_max_ttl),
        consents=consents,
        front_door=front_door,
        device=device,
        logout=RpLogout(parts.directory, browser_sessions, hints),
        backchannel_logout=backchannel,
        factors=factors,
        account=account,
        passkeys=passkeys,
    )
