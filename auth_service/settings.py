"""The auth service's settings, read from ``AUTH_*`` environment variables (see the README).

One Struct per concern, so each component is handed only its part (``PasswordHashing`` gets
``settings.passwords``, never the whole object); the environment stays flat (``AUTH_PORT`` sets
``settings.http.port``). A check across fields lives with their concern, the one across concerns
(the default issuer) on ``AuthSettings``; ``browser_settings.py`` and ``account_settings.py`` hold the rest.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from auth_service.account_settings import MailSettings, MfaSettings, PasskeySettings
from auth_service.browser_settings import DeviceSettings, LoginSettings, OidcSettings, WebSettings
from shared.settings import load_settings

__all__ = [
    "ENV_PREFIX",
    "AuthSettings",
    "DatabaseSettings",
    "HttpSettings",
    "KeySettings",
    "OAuthSettings",
    "PasswordSettings",
    "RedisSettings",
    "RetentionSettings",
    "SigningAlgorithm",
    "ThrottleSettings",
    "TokenSettings",
    "UserSettings",
    "settings_from_env",
]

ENV_PREFIX = "AUTH_"

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
SigningAlgorithm = Literal["RS256", "ES256", "EdDSA"]


class DatabaseSettings(msgspec.Struct, kw_only=True):
    """The auth service's own PostgreSQL database and its connection pool."""

    database_url: str = "postgresql://postgres@127.0.0.1:5432/auth"
    """PostgreSQL database owned by the auth service (never shared with another service)."""
    db_pool_min: PositiveInt = 2
    """Connections the pool keeps open."""
    db_pool_max: PositiveInt = 10
    """Most connections the pool opens."""


class RedisSettings(msgspec.Struct, kw_only=True):
    """The Redis all replicas share: the revocation stream and the throttling state."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    """Redis: the revocation stream every verifier follows and the throttling state all replicas share."""
    redis_prefix: str = "auth:"
    """Prefix of every Redis key this service writes; verifiers (the customer service) read the
    revocation stream ``{prefix}revocations`` under it."""
    revocation_grace: Annotated[float, msgspec.Meta(ge=2, le=3600)] = 30.0
    """Seconds this service's own API (admin, self-service, ``/userinfo``) goes on checking tokens
    against the revocations it last read while Redis cannot be read; past it those routes answer
    503 until Redis does. The OAuth endpoints do not depend on it (introspection reads PostgreSQL)."""


class HttpSettings(msgspec.Struct, kw_only=True):
    """The listening socket, logs and the limits every request is held to."""

    host: str = "127.0.0.1"
    """Address to listen on."""
    port: Port = 8000
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
    max_header_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 16 * 1024
    """Largest total size of the request headers (431 above it); a bearer token needs under 2 KiB."""
    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    """Addresses or networks (CIDR) of the reverse proxies in front of the service. Only a request
    whose peer is one of them has its ``X-Forwarded-For`` read, right to left, for the client's
    address; empty (the default) trusts no header, so a client cannot pick the address it is
    throttled and audited under."""

    def __post_init__(self) -> None:
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"AUTH_TRUSTED_PROXIES: {proxy!r} is not an address or network") from None


class OAuthSettings(msgspec.Struct, kw_only=True):
    """The OAuth endpoints' forms and the client records they read."""

    client_cache_ttl: Annotated[float, msgspec.Meta(ge=0, le=300)] = 5.0
    """Seconds a replica keeps an OAuth client's record (secret digest, grants, scopes) after reading
    it; a change applies at once on the replica that made it, within this time on the others. 0
    reads the database on every token request."""
    oauth_max_params: Annotated[int, msgspec.Meta(ge=4, le=1000)] = 32
    """Most parameters in an OAuth form (``/oauth/token``, ``/revoke``, ``/introspect``, ``/par``,
    ``/device_authorization``); more is ``invalid_request``."""
    oauth_max_param_chars: Annotated[int, msgspec.Meta(ge=1024)] = 8192
    """Longest OAuth form parameter name or value, tokens included; longer is ``invalid_request``."""
    resource_refresh_interval: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 10.0
    """Seconds between a replica's reloads of the resource servers (audiences and the scopes each
    owns), which the token endpoint reads from memory; a change applies at once on the replica
    that made it, within this time on the others."""


class TokenSettings(msgspec.Struct, kw_only=True):
    """What the issued tokens say and how long they live."""

    issuer: str = ""
    """``iss`` of every token and the discovery base URL; empty means ``http://{host}:{port}``."""
    access_token_ttl: Annotated[int, msgspec.Meta(ge=30, le=86400)] = 600
    """Access-token lifetime in seconds for resource servers registered without their own (RFC 9068
    JWT; a revocation before it ends is pushed to every verifier within seconds)."""
    refresh_token_ttl: PositiveInt = 30 * 86400
    """Lifetime of one refresh token in seconds; each use rotates it and starts a new one."""
    refresh_family_ttl: PositiveInt = 90 * 86400
    """Absolute lifetime in seconds of a login (refresh-token family): after it, log in again."""
    refresh_reuse_grace: Annotated[int, msgspec.Meta(ge=0, le=300)] = 10
    """Seconds after a refresh token's first use in which the same client presenting it again gets
    the same successor (and a new access token) instead of the session being revoked as a reuse: a
    retried request or two tabs refreshing at once (Okta's grace period, Auth0's reuse interval).
    After it, or once the successor has been used, a reuse revokes the session. 0 turns it off."""

    def __post_init__(self) -> None:
        """An empty issuer is filled in by ``AuthSettings`` (it needs the HTTP host and port)."""
        self.issuer = self.issuer.rstrip("/")
        if self.refresh_family_ttl < self.refresh_token_ttl:
            raise ValueError("AUTH_REFRESH_FAMILY_TTL must be at least AUTH_REFRESH_TOKEN_TTL")


class KeySettings(msgspec.Struct, kw_only=True):
    """Signing keys: their algorithm, sealing at rest, rotation and publication."""

    signing_alg: SigningAlgorithm = "RS256"
    """Algorithm of new signing keys: RS256 (default: every JOSE library supports it and it verifies
    fastest, see bench/auth_tokens.py), ES256 or EdDSA (Ed25519)."""
    key_encryption_key: str = ""
    """Key-encryption key (32 bytes, base64url) sealing signing keys at rest with AES-256-GCM; the
    newest one, which seals (older ones go in ``AUTH_PREVIOUS_KEY_ENCRYPTION_KEYS``)."""
    key_encryption_key_file: str = ""
    """File holding the key-encryption key (read when ``AUTH_KEY_ENCRYPTION_KEY`` is empty)."""
    previous_key_encryption_keys: list[str] = msgspec.field(default_factory=list)
    """Earlier key-encryption keys, comma-separated, that only open what they sealed (never seal).
    Set during a KEK rotation, on every replica: then ``keys reseal`` and empty it again."""
    key_rotation_interval: NonNegativeInt = 30 * 86400
    """Seconds a key signs before the next one takes over (automatic rotation); 0 turns it off."""
    key_prepublish_seconds: NonNegativeInt = 3600
    """Seconds a new key is published in the JWKS before it signs; at least ``AUTH_JWKS_MAX_AGE``,
    so every verifier has it cached before it sees a token signed with it."""
    key_refresh_interval: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    """Seconds between a replica's checks of the key table (rotation steps, keys added elsewhere)."""
    jwks_max_age: NonNegativeInt = 300
    """``Cache-Control: max-age`` of the JWKS and discovery documents, in seconds."""

    def __post_init__(self) -> None:
        if self.key_prepublish_seconds < self.jwks_max_age:
            raise ValueError(
                "AUTH_KEY_PREPUBLISH_SECONDS must be at least AUTH_JWKS_MAX_AGE, so verifiers "
                "fetch a new key before it signs"
            )


class PasswordSettings(msgspec.Struct, kw_only=True):
    """Password hashing (argon2id) and the policy a new password must meet."""

    argon2_memory_kib: Annotated[int, msgspec.Meta(ge=8)] = 19456
    """argon2id memory cost in KiB (OWASP minimum: 19456 = 19 MiB)."""
    argon2_time_cost: PositiveInt = 2
    """argon2id iterations (OWASP minimum with 19 MiB: 2)."""
    argon2_parallelism: PositiveInt = 1
    """argon2id lanes."""
    password_hashing_threads: NonNegativeInt = 0
    """Threads hashing passwords off the event loop; 0 means one per CPU."""
    password_min_length: Annotated[int, msgspec.Meta(ge=8, le=128)] = 12
    """Shortest password accepted (NIST SP 800-63B: at least 8; we default to 12)."""
    password_max_length: Annotated[int, msgspec.Meta(ge=64, le=1024)] = 128
    """Longest password accepted (NIST SP 800-63B: at least 64), checked before any hashing."""
    password_min_strength: Annotated[int, msgspec.Meta(ge=0, le=4)] = 3
    """Lowest zxcvbn score (0-4) accepted: rejects common passwords, dictionary words, keyboard
    patterns and repeats (3: over 10^8 guesses)."""

    def __post_init__(self) -> None:
        if self.password_max_length < self.password_min_length:
            raise ValueError("AUTH_PASSWORD_MAX_LENGTH must be at least AUTH_PASSWORD_MIN_LENGTH")


class UserSettings(msgspec.Struct, kw_only=True):
    """Self-registration and the first admin."""

    registration_enabled: bool = False
    """Public self-registration (``POST /api/1/users``, role ``viewer`` only); off by default."""
    bootstrap_admin_email: str = ""
    """Email of the first admin created by ``users bootstrap-admin`` (default ``admin@example.com``)."""
    bootstrap_admin_password: str = ""
    """Password of that admin; empty means generate one and print it once."""
    bootstrap_credentials_file: str = ""
    """Where ``users bootstrap-admin`` writes generated credentials (mode 0600); empty: print only."""


class ThrottleSettings(msgspec.Struct, kw_only=True):
    """Throttling in Redis, shared by all replicas: login lockout and per-address or per-client limits."""

    throttle_fail_mode: Literal["closed", "open"] = "closed"
    """What a limiter does when Redis cannot answer: ``closed`` refuses (503 + ``Retry-After``), so
    breaking Redis cannot switch throttling off; ``open`` lets the request through unthrottled.
    Either way it is logged and counted (``redis_errors_total{operation="throttle"}``)."""
    throttle_redis_timeout: Annotated[float, msgspec.Meta(gt=0, le=10)] = 0.5
    """Seconds a throttling command may take (connect and reply) before the fail mode applies, so
    an unreachable Redis never holds a request for long."""
    login_lockout_threshold: PositiveInt = 5
    """Failed logins of one account (by normalised email, existing or not) before it locks: the
    n-th failure locks it for 2^(n - threshold) seconds, like Amazon Cognito."""
    login_lockout_max_seconds: PositiveInt = 900
    """Longest lock of one account, in seconds (the doubling stops here)."""
    login_lockout_reset_seconds: PositiveInt = 900
    """Quiet seconds (no failed login) after the last lock ends that clear an account's failures;
    a successful login clears them at once."""
    login_ip_max_failures: PositiveInt = 100
    """Failed logins from one source address (an IPv6 /64) within the window before further
    attempts from it are refused, whatever account they name; generous for an office behind NAT."""
    login_ip_window_seconds: PositiveInt = 600
    """The sliding window of ``AUTH_LOGIN_IP_MAX_FAILURES``, in seconds."""
    registration_limit: PositiveInt = 10
    """Self-registrations attempted from one source address within the window (then 429)."""
    registration_window_seconds: PositiveInt = 3600
    """The sliding window of ``AUTH_REGISTRATION_LIMIT``, in seconds."""
    password_change_limit: PositiveInt = 10
    """Password changes one user may attempt within the window (then 429): a stolen access token
    cannot be used to guess the current password at speed."""
    password_change_window_seconds: PositiveInt = 900
    """The sliding window of ``AUTH_PASSWORD_CHANGE_LIMIT``, in seconds."""
    introspection_limit: PositiveInt = 3000
    """Introspection requests one authenticated client may make within the window (then 429)."""
    introspection_window_seconds: PositiveInt = 60
    """The sliding window of ``AUTH_INTROSPECTION_LIMIT``, in seconds."""


class RetentionSettings(msgspec.Struct, kw_only=True):
    """The purge of rows nothing needs any more: ended sessions, spent revocations, old audit events."""

    audit_retention_days: NonNegativeInt = 400
    """Days an audit event is kept before the purge deletes it (PCI DSS 10.5.1 asks for at least a
    year, the last three months at hand); 0 keeps audit events forever."""
    purge_interval: NonNegativeInt = 3600
    """Seconds between purge rounds in the service (one replica per round, under an advisory lock);
    0 turns the in-service purge off (run ``auth-service purge`` from a CronJob instead)."""


class AuthSettings(msgspec.Struct, kw_only=True):
    """Every setting of the auth service, one Struct per concern."""

    database: DatabaseSettings = msgspec.field(default_factory=DatabaseSettings)
    redis: RedisSettings = msgspec.field(default_factory=RedisSettings)
    http: HttpSettings = msgspec.field(default_factory=HttpSettings)
    oauth: OAuthSettings = msgspec.field(default_factory=OAuthSettings)
    tokens: TokenSettings = msgspec.field(default_factory=TokenSettings)
    keys: KeySettings = msgspec.field(default_factory=KeySettings)
    passwords: PasswordSettings = msgspec.field(default_factory=PasswordSettings)
    users: UserSettings = msgspec.field(default_factory=UserSettings)
    throttling: ThrottleSettings = msgspec.field(default_factory=ThrottleSettings)
    retention: RetentionSettings = msgspec.field(default_factory=RetentionSettings)
    oidc: OidcSettings = msgspec.field(default_factory=OidcSettings)
    web: WebSettings = msgspec.field(default_factory=WebSettings)
    login: LoginSettings = msgspec.field(default_factory=LoginSettings)
    device: DeviceSettings = msgspec.field(default_factory=DeviceSettings)
    mail: MailSettings = msgspec.field(default_factory=MailSettings)
    mfa: MfaSettings = msgspec.field(default_factory=MfaSettings)
    passkeys: PasskeySettings = msgspec.field(default_factory=PasskeySettings)

    def __post_init__(self) -> None:
        if not self.tokens.issuer:
            self.tokens.issuer = f"http://{self.http.host}:{self.http.port}"

    @property
    def key_retention_seconds(self) -> int:
        """How long a retired key stays published: its last tokens' lifetime, plus the time other
        replicas may still sign with it before they see the rotation, plus clock leeway. It spans
        two concerns (token lifetime, key refresh), so it is computed here and handed to the keys."""
        return self.tokens.access_token_ttl + int(self.keys.key_refresh_interval) + 60


def settings_from_env(environ: Mapping[str, str]) -> AuthSettings:
    return load_settings(AuthSettings, ENV_PREFIX, environ)
