"""What a client may be registered with: its id's shape, its grants, and the scopes and resources
it holds (each known to the registry, and none beyond the registering actor's own powers).

A user's ``sub`` is its UUID and a client's ``sub`` (``client_credentials``) is its ``client_id``,
so a ``client_id`` is never UUID-shaped: a token then says by its ``sub`` alone whether it speaks
for a user or a client (RFC 9068 section 5), and no client can pose as a user. The database checks
the same (``oauth_clients_id_not_a_user_subject``); this check answers first, with the reason.

Bounded powers: the actor must hold every scope and resource the client *gains* (narrowing grants
nothing), read in the caller's transaction; a new secret hands over everything the client holds,
so rotating one needs all of it (``require_all``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any

import msgspec

from auth_service.audit.service import Actor
from auth_service.clients.repository import ClientFields, ClientRecord, ClientRepository
from auth_service.clients.schemas import ClientUpdate
from auth_service.clients.uris import UriRules
from auth_service.errors import InvalidField
from auth_service.powers.service import PowersService
from shared.db.pool import Connection

__all__ = [
    "ClientRules",
    "check_redirects",
    "checked_client_id",
    "checked_grants",
    "checked_response_types",
    "front_channel_update",
]

_UUID_SHAPED = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE)


def checked_client_id(client_id: str | None) -> str:
    """``client_id`` as asked, or a new random one (22 characters: never UUID-shaped)."""
    if client_id is None:
        return secrets.token_urlsafe(16)
    if _UUID_SHAPED.fullmatch(client_id):
        raise InvalidField(
            "client_id", "A client_id is never UUID-shaped: user subjects are UUIDs (RFC 9068 section 5)."
        )
    return client_id


def checked_grants(grant_types: Iterable[str], confidential: bool) -> list[str]:
    grants = sorted(set(grant_types))
    if not grants:
        raise InvalidField("grant_types", "A client needs at least one grant type.")
    if "client_credentials" in grants and not confidential:
        raise InvalidField("grant_types", "client_credentials needs a confidential client (with a secret).")
    return grants


def checked_response_types(response_types: Iterable[str] | None, grants: list[str]) -> list[str]:
    """``response_types`` as asked (default: ``["code"]`` with the ``authorization_code`` grant)."""
    has_code_grant = "authorization_code" in grants
    if response_types is None:
        return ["code"] if has_code_grant else []
    types = sorted(set(response_types))
    if "code" in types and not has_code_grant:
        raise InvalidField("response_types", "response_type code needs the authorization_code grant.")
    return types


def check_redirects(fields: ClientFields) -> None:
    """The authorization endpoint answers only to a registered redirect URI."""
    if ("authorization_code" in fields.grant_types or fields.response_types) and not fields.redirect_uris:
        raise InvalidField("redirect_uris", "The authorization_code grant needs at least one redirect URI.")


def front_channel_update(
    uris: UriRules, current: ClientRecord, data: ClientUpdate, grants: list[str]
) -> dict[str, Any]:
    """The redirect and logout members as an update ``data`` leaves them (narrowing needs no revocation:
    a code or logout goes only to a URI registered when it is sent)."""
    public = not current.confidential
    response_types: list[str] | None = None if data.response_types is None else list(data.response_types)
    if response_types is None and ("authorization_code" in grants) == (
        "authorization_code" in current.grant_types
    ):
        response_types = current.response_types
    backchannel = data.backchannel_logout_uri
    return {
        "redirect_uris": (
            current.redirect_uris
            if data.redirect_uris is None
            else uris.redirect_uris("redirect_uris", data.redirect_uris, public=public)
        ),
        "post_logout_redirect_uris": (
            current.post_logout_redirect_uris
            if data.post_logout_redirect_uris is None
            else uris.redirect_uris(
                "post_logout_redirect_uris", data.post_logout_redirect_uris, public=public
            )
        ),
        "response_types": checked_response_types(response_types, grants),
        "backchannel_logout_uri": (
            current.backchannel_logout_uri
            if backchannel is msgspec.UNSET
            else uris.backchannel_logout_uri(backchannel)
        ),
        "first_party": current.first_party if data.first_party is None else data.first_party,
    }


def _one(value: str | None) -> set[str]:
    return set() if value is None else {value}


class ClientRules:
    """The registry and powers checks of a create or update, on the caller's connection."""

    __slots__ = ("_clients", "_powers")

    def __init__(self) -> None:
        self._clients = ClientRepository()
        self._powers = PowersService()

    async def scopes(self, conn: Connection, scope: str) -> list[str]:
        """The space-separated ``scope``, sorted; 422 for a scope no resource server owns."""
        return await self._powers.known_scopes(conn, scope.split(), "scope")

    async def default_resources(self, conn: Connection, scopes: list[str]) -> list[str]:
        """A new client's resources when it names none: the resource servers owning its scopes."""
        return await self._clients.owners(conn, scopes)

    async def check(
        self, conn: Connection, actor: Actor, fields: ClientFields, before: ClientFields | None
    ) -> None:
        """422 for an unregistered resource or a default outside ``resources``; 403 for what the
        client gains that ``actor`` does not hold (``before``: the client as it is, None if new)."""
        check_redirects(fields)
        named = {
            "resources": set(fields.resources),
            "default_resource": _one(fields.default_resource),
            "resource_server": _one(fields.resource_server),
        }
        registered = await self._clients.registered(conn, set().union(*named.values()))
        for field, identifiers in named.items():
            unknown = sorted(identifiers - registered)
            if unknown:
                raise InvalidField(field, f"Unknown resource servers: {' '.join(unknown)}.")
        if fields.default_resource is not None and fields.default_resource not in fields.resources:
            raise InvalidField("default_resource", "The default resource must be one of resources.")
        powers = await self._powers.of(conn, actor)
        had_scopes = set() if before is None else set(before.scopes)
        had_resources = set() if before is None else set(before.resources)
        powers.require_scopes(set(fields.scopes) - had_scopes, "scope")
        powers.require_resources(named["resources"] - had_resources, "resources")
        for field in ("default_resource", "resource_server"):
            if before is None or getattr(before, field) != getattr(fields, field):
                powers.require_resources(named[field], field)

    async def require_all(self, conn: Connection, actor: Actor, client: ClientRecord) -> None:
        """403 unless ``actor`` holds everything ``client`` holds (before handing over its secret)."""
        powers = await self._powers.of(conn, actor)
        powers.require_scopes(client.scopes, "client_id")
        powers.require_resources(
            {*client.resources, *_one(client.default_resource), *_one(client.resource_server)}, "client_id"
        )
