"""The resource-servers API's bodies: an audience tokens are issued for, and the scopes it owns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

__all__ = ["Identifier", "ResourceServer", "ResourceServerCreate", "ResourceServerUpdate"]

Identifier = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[\x21-\x7e]{1,200}$",
        description="An absolute URI or a name (printable ASCII, no spaces): the tokens' `aud`",
        examples=["billing"],
    ),
]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Scope = Annotated[str, msgspec.Meta(pattern=r"^[\x21\x23-\x5B\x5D-\x7E]{1,100}$")]
Lifetime = Annotated[
    int,
    msgspec.Meta(
        ge=30, le=86400, description="Seconds its access tokens live (default AUTH_ACCESS_TOKEN_TTL)"
    ),
]


class ResourceServer(msgspec.Struct, frozen=True):
    identifier: str
    name: str
    scopes: list[str]
    access_token_ttl: int | None
    managed: bool
    """The auth service's own API: not editable or deletable."""
    created_at: datetime
    updated_at: datetime


class ResourceServerCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    identifier: Identifier
    name: Name
    scopes: list[Scope] = []
    access_token_ttl: Lifetime | None = None


class ResourceServerUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Only the fields given change; ``scopes`` replaces the list; ``access_token_ttl: null`` goes
    back to the default lifetime."""

    name: Name | None = None
    scopes: list[Scope] | None = None
    access_token_ttl: Lifetime | msgspec.UnsetType | None = msgspec.UNSET
