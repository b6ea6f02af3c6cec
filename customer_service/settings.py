"""The customer service's settings, read from ``CUSTOMER_*`` environment variables (see the README)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from shared.settings import load_settings

__all__ = ["ENV_PREFIX", "CustomerSettings"]

ENV_PREFIX = "CUSTOMER_"

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]


class CustomerSettings(msgspec.Struct, kw_only=True):
    database_url: str = "postgresql://postgres@127.0.0.1:5432/customers"
    """PostgreSQL database owned by the customer service."""
    redis_url: str = "redis://127.0.0.1:6379/0"
    """Redis: the optional access-token deny-list check."""
    host: str = "127.0.0.1"
    """Address to listen on."""
    port: Port = 8001
    """Port to listen on."""
    issuer: str = "http://127.0.0.1:8000"
    """The auth service whose tokens are trusted (exact ``iss``; its discovery document gives the JWKS)."""
    log_level: Literal["debug", "info", "warning", "error", "DEBUG", "INFO", "WARNING", "ERROR"] = "info"
    """Minimum level logged."""
    log_format: Literal["auto", "json", "text"] = "auto"
    """``json`` (one object per line), ``text``, or ``auto`` (text on a terminal)."""
    db_pool_min: PositiveInt = 2
    """Connections the pool keeps open."""
    db_pool_max: PositiveInt = 10
    """Most connections the pool opens."""
    max_body_bytes: PositiveInt = 64 * 1024
    """Largest request body accepted (413 above it)."""

    def __post_init__(self) -> None:
        self.issuer = self.issuer.rstrip("/")


def settings_from_env(environ: Mapping[str, str]) -> CustomerSettings:
    return load_settings(CustomerSettings, ENV_PREFIX, environ)
