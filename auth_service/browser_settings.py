"""Settings of the browser front door: OpenID Connect, the hosted pages, SSO sessions, devices.

Apart from ``settings.py`` only to keep each module short; ``AuthSettings`` holds them as
``oidc``, ``web``, ``login`` and ``device``, read from the same flat ``AUTH_*`` variables.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = ["DeviceSettings", "LoginSettings", "OidcSettings", "WebSettings"]


class OidcSettings(msgspec.Struct, kw_only=True):
    """OpenID Connect: ID tokens, client registration rules, and the legacy password grant."""

    environment: Literal["production", "development"] = "production"
    """``production`` refuses ``http:`` redirect URIs except loopback ones (RFC 8252 section 7.3);
    ``development`` (set by ``make run``) accepts them, for apps on a LAN address."""
    id_token_ttl: Annotated[int, msgspec.Meta(ge=30, le=86400)] = 300
    """Lifetime of an ID token in seconds: it proves a login to the client once, it opens nothing."""
    password_grant_enabled: bool = True
    """The legacy resource owner password grant (RFC 9700 section 2.4: MUST NOT be used): while
    true, a client registered with it may use it; false refuses it for every client and drops it
    from discovery."""

    @property
    def development(self) -> bool:
        return self.environment == "development"


class WebSettings(msgspec.Struct, kw_only=True):
    """The hosted pages (login, consent, logout, device): language and branding."""

    product_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "Fintech Auth"
    """Name shown in the pages' header and titles."""
    logo_url: str = ""
    """Logo in the pages' header: an ``https:`` URL, or a file name inside ``AUTH_THEME_DIR``;
    empty shows the product name only."""
    primary_color: Annotated[str, msgspec.Meta(pattern=r"^#[0-9A-Fa-f]{6}$")] = "#0B5FFF"
    """Colour of buttons and links (``#RRGGBB``); pick one with 4.5:1 contrast on white."""
    theme_dir: str = ""
    """A folder with ``theme.css`` (loaded after ours) and images, served under ``/static/theme/``."""
    default_locale: Literal["en", "pt-BR"] = "en"
    """Language of the pages when neither ``ui_locales`` nor ``Accept-Language`` names one we have."""


class LoginSettings(msgspec.Struct, kw_only=True):
    """Browser (SSO) sessions and the authorization code flow."""

    session_idle_ttl: Annotated[int, msgspec.Meta(ge=60, le=30 * 86400)] = 1800
    """Seconds a browser session lives without use before the next request must log in again."""
    session_max_ttl: Annotated[int, msgspec.Meta(ge=300, le=90 * 86400)] = 36000
    """Absolute lifetime of a browser session in seconds, however busy (Keycloak's SSO Session Max)."""
    authorization_code_ttl: Annotated[int, msgspec.Meta(ge=5, le=60)] = 60
    """Seconds an authorization code may be exchanged (single use; RFC 6749 says 10 minutes at most)."""
    authorization_request_ttl: Annotated[int, msgspec.Meta(ge=60, le=3600)] = 600
    """Seconds a person has to log in and consent once an app sent them to ``/oauth/authorize``."""

    def __post_init__(self) -> None:
        if self.session_max_ttl < self.session_idle_ttl:
            raise ValueError("AUTH_SESSION_MAX_TTL must be at least AUTH_SESSION_IDLE_TTL")


class DeviceSettings(msgspec.Struct, kw_only=True):
    """The device authorization grant (RFC 8628) and back-channel logout."""

    device_code_ttl: Annotated[int, msgspec.Meta(ge=60, le=1800)] = 600
    """Seconds a device code and its user code stay valid."""
    device_poll_interval: Annotated[int, msgspec.Meta(ge=1, le=60)] = 5
    """Seconds a device must wait between polls of the token endpoint (``slow_down`` adds 5)."""
    backchannel_logout_timeout: Annotated[float, msgspec.Meta(gt=0, le=30)] = 5.0
    """Seconds one back-channel logout request to a client may take."""
