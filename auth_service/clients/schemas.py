"""The clients API's bodies, in RFC 7591 (dynamic client registration) metadata names."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = ["Client", "ClientCreate", "ClientUpdate", "ClientWithSecret"]

GrantType = Literal["password", "refresh_token", "client_credentials"]
AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]
ClientName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ScopeText = Annotated[str, msgspec.Meta(max_length=2000, description="Space-separated scopes")]
ClientId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._~-]{1,100}$")]


class Client(msgspec.Struct, frozen=True):
    client_id: str
    client_name: str
    grant_types: list[str]
    scope: str
    token_endpoint_auth_method: str
    client_id_issued_at: int


class ClientWithSecret(msgspec.Struct, frozen=True):
    """Returned once, at creation or secret rotation: the secret is never stored in clear."""

    client_id: str
    client_name: str
    grant_types: list[str]
    scope: str
    token_endpoint_auth_method: str
    client_id_issued_at: int
    client_secret: str | None = None
    client_secret_expires_at: int = 0


class ClientCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    client_name: ClientName
    grant_types: list[GrantType] = msgspec.field(default_factory=lambda: ["client_credentials"])
    scope: ScopeText = ""
    token_endpoint_auth_method: AuthMethod = "client_secret_basic"  # noqa: S105
    client_id: ClientId | None = None


class ClientUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    client_name: ClientName | None = None
    grant_types: list[GrantType] | None = None
    scope: ScopeText | None = None
