"""The customer service's settings, read from ``CUSTOMER_*`` environment variables (see the README).

One Struct per concern, so each component is handed only its part (the verifier gets
``settings.verification``, never the whole object); the environment stays flat
(``CUSTOMER_PORT`` sets ``settings.http.port``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from shared.auth.revocation_events import MAX_LEEWAY
from shared.settings import load_settings

__all__ = [
    "ENV_PREFIX",
    "CustomerApiSettings",
    "CustomerSettings",
    "DatabaseSettings",
    "HttpSettings",
    "RevocationSettings",
    "VerificationSettings",
    "settings_from_env",
]

ENV_PREFIX = "CUSTOMER_"

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]


class DatabaseSettings(msgspec.Struct, kw_only=True):
    """The customer service's own PostgreSQL database and its connection pool."""

    database_url: str = "postgresql://postgres@127.0.0.1:5432/customers"
    """PostgreSQL database owned by the customer service."""
    db_pool_min: PositiveInt = 2
    """Connections the pool keeps open."""
    db_pool_max: PositiveInt = 10
    """Most connections the pool opens."""


class RevocationSettings(msgspec.Struct, kw_only=True):
    """Revocations pushed by the auth service through its Redis, read-only from here."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    """The auth service's Redis (``AUTH_REDIS_URL``), where its revocation stream lives."""
    check_revocation: bool = True
    """Refuse access tokens revoked before they expire (user disabled, session or token revoked,
    password reset, client deleted, role changed, key revoked). The revocations are followed from
    a Redis stream and held in memory, so a check costs no round trip. Off: a revoked token stays
    accepted until it expires."""
    redis_prefix: str = "auth:"
    """Prefix of the auth service's Redis keys (``AUTH_REDIS_PREFIX``): the stream is
    ``{prefix}revocations``."""
    revocation_grace: Annotated[float, msgspec.Meta(ge=2)] = 30.0
    """Seconds tokens are still checked against the last known revocations after Redis stopped
    answering; past that, requests with a token get 503 (``Retry-After``) and ``/readyz`` fails
    until Redis answers again, never an accepted token that may have been revoked meanwhile."""


class HttpSettings(msgspec.Struct, kw_only=True):
    """The listening socket, logs and the limits every request is held to."""

    host: str = "127.0.0.1"
    """Address to listen on."""
    port: Port = 8001
    """Port to listen on."""
    log_level: Literal["debug", "info", "warning", "error", "DEBUG", "INFO", "WARNING", "ERROR"] = "info"
    """Minimum level logged."""
    log_format: Literal["auto", "json", "text"] = "auto"
    """``json`` (one object per line), ``text``, or ``auto`` (text on a terminal)."""
    keep_alive_timeout: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 75
    """Seconds an idle keep-alive connection stays open. Longer than the idle timeout of the proxy
    or load balancer in front (60 s on most), so the proxy closes first: when the server closes a
    connection the proxy is reusing, that request fails (a 502 there, a reset for a direct client)."""
    max_body_bytes: PositiveInt = 64 * 1024
    """Largest request body accepted (413 above it)."""
    max_header_bytes: PositiveInt = 16 * 1024
    """Largest total size of the request headers accepted (431 above it)."""


class VerificationSettings(msgspec.Struct, kw_only=True):
    """Which access tokens are accepted, where their keys come from, and the bearer challenge."""

    issuer: str = "http://127.0.0.1:8000"
    """The auth service whose tokens are trusted (exact ``iss``; its discovery document gives the JWKS)."""
    audience: str = "customers"
    """This service's name in tokens: an access token is accepted only when its ``aud`` contains it."""
    jwks_url: str = ""
    """JWKS URL; empty means the ``jwks_uri`` of the issuer's metadata (RFC 8414, then OIDC discovery)."""
    jwks_default_max_age: Seconds = 300.0
    """Seconds the key set stays fresh when the JWKS response has no ``Cache-Control: max-age``."""
    jwks_unknown_kid_interval: Seconds = 10.0
    """Least seconds between two JWKS refetches caused by tokens naming an unknown ``kid``."""
    jwks_stale_if_error: Seconds = 86400.0
    """Seconds cached keys stay usable past their freshness while the issuer cannot be reached."""
    token_leeway: Annotated[int, msgspec.Meta(ge=0, le=MAX_LEEWAY)] = 30
    """Clock skew in seconds tolerated on ``exp``, ``nbf`` and ``iat`` (at most 300: revocations are
    kept that long past expiry)."""
    token_cache_size: PositiveInt = 10000
    """Verified tokens remembered (LRU, each until its ``exp``), so a reused token is verified once."""
    realm: str = "customers"
    """``realm`` of the ``WWW-Authenticate: Bearer`` challenge in 401 and 403 answers."""

    def __post_init__(self) -> None:
        self.issuer = self.issuer.rstrip("/")


class CustomerApiSettings(msgspec.Struct, kw_only=True):
    """How the customer API is served: where, and the rules clients are held to."""

    api_prefix: Annotated[str, msgspec.Meta(pattern=r"^(/[A-Za-z0-9._~-]+)*$")] = "/api/1"
    """Path before ``/customers`` (empty serves ``/customers`` at the root, e.g. behind a proxy)."""
    require_if_match: bool = True
    """PUT and PATCH without ``If-Match`` answer 428, so a client cannot overwrite changes it never saw."""
    search_timeout: Seconds = 3.0
    """Seconds a search may run before it is stopped and answered 422 (narrow the query)."""
    delete_requires_mfa: bool = True
    """DELETE needs a token from a login with a second factor (``amr`` ``mfa``, or ``acr`` 2 or
    higher): any other gets 401 with an RFC 9470 challenge (``acr_values="2"``) to log in again
    with, and so does a client's token for itself (client credentials). Off: the
    ``customers:delete`` scope is enough."""
    delete_max_age: Annotated[int, msgspec.Meta(ge=0)] = 0
    """Seconds since the person logged in (``auth_time``) within which DELETE is allowed; past it,
    401 with ``max_age`` in the challenge. A refreshed token keeps its login's time. 0: no limit."""


class CustomerSettings(msgspec.Struct, kw_only=True):
    database: DatabaseSettings = msgspec.field(default_factory=DatabaseSettings)
    revocation: RevocationSettings = msgspec.field(default_factory=RevocationSettings)
    http: HttpSettings = msgspec.field(default_factory=HttpSettings)
    verification: VerificationSettings = msgspec.field(default_factory=VerificationSettings)
    customers: CustomerApiSettings = msgspec.field(default_factory=CustomerApiSettings)


def settings_from_env(environ: Mapping[str, str]) -> CustomerSettings:
    return load_settings(CustomerSettings, ENV_PREFIX, environ)
