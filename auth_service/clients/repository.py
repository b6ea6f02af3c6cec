"""The ``oauth_clients`` and ``client_resources`` tables (asyncpg only). One query per token
request: ``get``.

A taken ``client_id`` is ``ClientExists``; one the database refuses as UUID-shaped (the check
``oauth_clients_id_not_a_user_subject``) or a resource server deleted meanwhile is ``InvalidField``.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from auth_service.errors import ClientExists, InvalidField

__all__ = ["ClientFields", "ClientRecord", "ClientRepository"]

_COLUMNS = """client_id, client_name, secret_digest, grant_types, scopes, token_endpoint_auth_method,
default_resource, resource_server, created_at, updated_at, redirect_uris, post_logout_redirect_uris,
response_types, backchannel_logout_uri, first_party,
ARRAY(SELECT cr.resource FROM client_resources cr WHERE cr.client_id = oauth_clients.client_id
      ORDER BY cr.resource) AS resources"""
_GET = f"SELECT {_COLUMNS} FROM oauth_clients WHERE client_id = $1"  # noqa: S608
_LIST = f"""
SELECT {_COLUMNS} FROM oauth_clients WHERE ($1::text IS NULL OR client_id > $1) ORDER BY client_id LIMIT $2
"""  # noqa: S608
_GET_FOR_UPDATE = f"{_GET} FOR UPDATE"
_INSERT = """
INSERT INTO oauth_clients (client_id, secret_digest, client_name, grant_types, scopes,
                           token_endpoint_auth_method, default_resource, resource_server, redirect_uris,
                           post_logout_redirect_uris, response_types, backchannel_logout_uri, first_party)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
"""
_UPDATE = """
UPDATE oauth_clients SET client_name = $2, grant_types = $3, scopes = $4, token_endpoint_auth_method = $5,
                         default_resource = $6, resource_server = $7, redirect_uris = $8,
                         post_logout_redirect_uris = $9, response_types = $10, backchannel_logout_uri = $11,
                         first_party = $12, updated_at = now()
WHERE client_id = $1
"""
_SET_RESOURCES = """
WITH gone AS (DELETE FROM client_resources WHERE client_id = $1 AND resource <> ALL($2::text[]))
INSERT INTO client_resources (client_id, resource) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING
"""
_REGISTERED = "SELECT identifier FROM resource_servers WHERE identifier = ANY($1::text[])"
_OWNERS = "SELECT DISTINCT resource FROM resource_scopes WHERE scope = ANY($1::text[]) ORDER BY resource"
_ID_CHECK = "oauth_clients_id_not_a_user_subject"
_SET_SECRET = "UPDATE oauth_clients SET secret_digest = $2, updated_at = now() WHERE client_id = $1"  # noqa: S105
_DELETE = "DELETE FROM oauth_clients WHERE client_id = $1"


class ClientFields(msgspec.Struct, frozen=True, kw_only=True):
    """What registration writes (everything but the id and the secret), checked by the service."""

    client_name: str
    grant_types: list[str]
    scopes: list[str]
    token_endpoint_auth_method: str
    resources: list[str]
    default_resource: str | None
    resource_server: str | None
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    response_types: list[str]
    backchannel_logout_uri: str | None
    first_party: bool


class ClientRecord(msgspec.Struct, frozen=True):
    client_id: str
    client_name: str
    secret_digest: bytes | None
    grant_types: list[str]
    scopes: list[str]
    token_endpoint_auth_method: str
    """``client_secret_basic``, ``client_secret_post`` or ``none``: the only method it may use."""
    default_resource: str | None
    """The audience of a token request that names neither ``resource`` nor ``scope``."""
    resource_server: str | None
    """Set for a resource server's own credentials: it may introspect tokens meant for it."""
    created_at: datetime
    updated_at: datetime
    resources: list[str]
    """The resource servers (identifiers) this client may ask tokens for."""
    redirect_uris: list[str]
    """Where authorization responses may go: matched exactly (``redirect_uris.py``)."""
    post_logout_redirect_uris: list[str]
    """Where RP-initiated logout may send the browser back to (matched the same way)."""
    response_types: list[str]
    """``["code"]`` for a client of the authorization endpoint, else empty."""
    backchannel_logout_uri: str | None
    """Where a logout token is POSTed when a browser session it took part in ends."""
    first_party: bool
    """One of ours: its users are not asked for consent."""

    @property
    def confidential(self) -> bool:
        return self.secret_digest is not None

    @property
    def fields(self) -> ClientFields:
        return ClientFields(
            client_name=self.client_name,
            grant_types=self.grant_types,
            scopes=self.scopes,
            token_endpoint_auth_method=self.token_endpoint_auth_method,
            resources=self.resources,
            default_resource=self.default_resource,
            resource_server=self.resource_server,
            redirect_uris=self.redirect_uris,
            post_logout_redirect_uris=self.post_logout_redirect_uris,
            response_types=self.response_types,
            backchannel_logout_uri=self.backchannel_logout_uri,
            first_party=self.first_party,
        )


def _record(row: asyncpg.Record | None) -> ClientRecord | None:
    return None if row is None else ClientRecord(**dict(row))


def _values(fields: ClientFields) -> tuple[object, ...]:
    return (
        fields.client_name,
        fields.grant_types,
        fields.scopes,
        fields.token_endpoint_auth_method,
        fields.default_resource,
        fields.resource_server,
        fields.redirect_uris,
        fields.post_logout_redirect_uris,
        fields.response_types,
        fields.backchannel_logout_uri,
        fields.first_party,
    )


def _resource_gone() -> InvalidField:
    return InvalidField("resources", "A resource server named here was deleted meanwhile.")


class ClientRepository:
    __slots__ = ()

    async def get(
        self, conn: asyncpg.Connection, client_id: str, *, for_update: bool = False
    ) -> ClientRecord | None:
        """``for_update`` locks the row until the transaction ends (a change reads, checks, writes)."""
        return _record(await conn.fetchrow(_GET_FOR_UPDATE if for_update else _GET, client_id))

    async def page(self, conn: asyncpg.Connection, after: str | None, limit: int) -> list[ClientRecord]:
        return [ClientRecord(**dict(r)) for r in await conn.fetch(_LIST, after, limit)]

    async def registered(self, conn: asyncpg.Connection, identifiers: set[str]) -> set[str]:
        """Those of ``identifiers`` that are registered resource servers."""
        return {row[0] for row in await conn.fetch(_REGISTERED, sorted(identifiers))}

    async def owners(self, conn: asyncpg.Connection, scopes: list[str]) -> list[str]:
        """The resource servers owning any of ``scopes``, sorted."""
        return [row[0] for row in await conn.fetch(_OWNERS, scopes)]

    async def insert(
        self, conn: asyncpg.Connection, client_id: str, secret_digest: bytes | None, fields: ClientFields
    ) -> ClientRecord:
        """Inside the caller's transaction (the client row and its resources are written together)."""
        try:
            await conn.execute(_INSERT, client_id, secret_digest, *_values(fields))
            await conn.execute(_SET_RESOURCES, client_id, fields.resources)
        except asyncpg.UniqueViolationError:
            raise ClientExists(client_id) from None
        except asyncpg.CheckViolationError as exc:
            if exc.constraint_name == _ID_CHECK:
                raise InvalidField("client_id", "A client_id is never UUID-shaped.") from None
            raise
        except asyncpg.ForeignKeyViolationError:
            raise _resource_gone() from None
        record = await self.get(conn, client_id)
        assert record is not None
        return record

    async def update(self, conn: asyncpg.Connection, client_id: str, fields: ClientFields) -> ClientRecord:
        """Writes every field (the caller read the row ``for_update`` and decided them all)."""
        try:
            await conn.execute(_UPDATE, client_id, *_values(fields))
            await conn.execute(_SET_RESOURCES, client_id, fields.resources)
        except asyncpg.ForeignKeyViolationError:
            raise _resource_gone() from None
        record = await self.get(conn, client_id)
        assert record is not None
        return record

    async def set_secret(self, conn: asyncpg.Connection, client_id: str, secret_digest: bytes) -> bool:
        return await conn.execute(_SET_SECRET, client_id, secret_digest) == "UPDATE 1"

    async def delete(self, conn: asyncpg.Connection, client_id: str) -> bool:
        return await conn.execute(_DELETE, client_id) == "DELETE 1"
