"""The clients API's bodies, in RFC 7591 (dynamic client registration) metadata names.

Besides RFC 7591's names: ``resources`` (RFC 8707 resource identifiers the client may ask tokens
for), ``default_resource`` (the audience when a token request names neither ``resource`` nor
``scope``), ``resource_server`` (set when the client is a resource server's own credentials: it
may introspect the tokens meant for that resource) and ``first_party`` (one of ours: no consent
page). ``backchannel_logout_uri`` and ``post_logout_redirect_uris`` are the OpenID Connect logout
specifications' registration members.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = ["Client", "ClientCreate", "ClientUpdate", "ClientWithSecret"]

GrantType = Literal[
    "authorization_code",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
    "client_credentials",
    "password",
]
ResponseType = Literal["code"]
AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]
SecretMethod = Literal["client_secret_basic", "client_secret_post"]
ClientName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ScopeText = Annotated[str, msgspec.Meta(max_length=2000, description="Space-separated scopes")]
ClientId = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9._~-]{1,100}$",
        description="Never UUID-shaped: a user's sub is a UUID, a client's sub its client_id",
    ),
]
ResourceId = Annotated[
    str, msgspec.Meta(pattern=r"^[\x21-\x7e]{1,200}$", description="A registered resource server")
]
Resources = Annotated[list[ResourceId], msgspec.Meta(max_length=100)]
Uri = Annotated[str, msgspec.Meta(min_length=1, max_length=8000)]
"""Checked by the registration (``clients/uris.py``: 2000 characters at most, 422 with the reason)."""
Uris = Annotated[list[Uri], msgspec.Meta(max_length=100, description="At most 20 (checked: 422)")]


class Client(msgspec.Struct, frozen=True):
    client_id: str
    client_name: str
    grant_types: list[str]
    scope: str
    token_endpoint_auth_method: str
    client_id_issued_at: int
    resources: list[str]
    default_resource: str | None
    resource_server: str | None
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    response_types: list[str]
    backchannel_logout_uri: str | None
    first_party: bool


class ClientWithSecret(msgspec.Struct, frozen=True):
    """Returned once, at creation or secret rotation: the secret is never stored in clear."""

    client_id: str
    client_name: str
    grant_types: list[str]
    scope: str
    token_endpoint_auth_method: str
    client_id_issued_at: int
    resources: list[str]
    default_resource: str | None
    resource_server: str | None
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    response_types: list[str]
    backchannel_logout_uri: str | None
    first_party: bool
    client_secret: str | None = None
    client_secret_expires_at: int = 0


class ClientCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    client_name: ClientName
    grant_types: list[GrantType] = msgspec.field(default_factory=lambda: ["client_credentials"])
    scope: ScopeText = ""
    token_endpoint_auth_method: AuthMethod = "client_secret_basic"  # noqa: S105
    """The only method the client may authenticate with (``none``: a public client, no secret)."""
    client_id: ClientId | None = None
    resources: Resources | None = None
    """Default: the resource servers owning its scopes."""
    default_resource: ResourceId | None = None
    resource_server: ResourceId | None = None
    redirect_uris: Uris = msgspec.field(default_factory=list)
    """Required with ``authorization_code``: ``https:``, an ``http:`` loopback IP literal (any port
    matches, RFC 8252 section 7.3) or, for a public client, a private-use scheme (``com.example.app:/cb``)."""
    post_logout_redirect_uris: Uris = msgspec.field(default_factory=list)
    response_types: list[ResponseType] | None = None
    """Default: ``["code"]`` with the ``authorization_code`` grant, else none."""
    backchannel_logout_uri: Uri | None = None
    """OpenID Connect Back-Channel Logout 1.0: a logout token is POSTed here when a session ends."""
    first_party: bool = False
    """One of ours: its users are not asked for consent."""


class ClientUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Absent fields stay as they are; ``null`` clears ``default_resource``, ``resource_server`` or
    ``backchannel_logout_uri``."""

    client_name: ClientName | None = None
    grant_types: list[GrantType] | None = None
    scope: ScopeText | None = None
    token_endpoint_auth_method: SecretMethod | None = None
    """Between the two secret methods only: a public client stays public, a confidential one keeps
    its secret."""
    resources: Resources | None = None
    default_resource: ResourceId | msgspec.UnsetType | None = msgspec.UNSET
    resource_server: ResourceId | msgspec.UnsetType | None = msgspec.UNSET
    redirect_uris: Uris | None = None
    post_logout_redirect_uris: Uris | None = None
    response_types: list[ResponseType] | None = None
    backchannel_logout_uri: Uri | msgspec.UnsetType | None = msgspec.UNSET
    first_party: bool | None = None
