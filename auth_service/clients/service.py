"""Client registration rules: grants, scopes and resources checked, secrets generated here and
shown once, every change audited and told to the ``ClientDirectory`` the OAuth endpoints read.

The checks of what a client may hold, and against whose powers, are in ``registration.py``; they
run in the transaction that writes, on the row read ``FOR UPDATE``. Deleting a client ends its
sessions (the foreign keys cascade) and revokes every access token issued to it, in the same
transaction (``Revoker``).
"""

from __future__ import annotations

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.directory import ClientDirectory
from auth_service.clients.registration import (
    ClientRules,
    checked_client_id,
    checked_grants,
    checked_response_types,
    front_channel_update,
)
from auth_service.clients.repository import ClientFields, ClientRecord, ClientRepository
from auth_service.clients.schemas import Client, ClientCreate, ClientUpdate, ClientWithSecret
from auth_service.clients.uris import UriRules
from auth_service.errors import ClientNotFound, InvalidField, PublicClient
from auth_service.random_secrets import digest, new_secret
from auth_service.revocations.service import Revoker
from shared.db.pool import Connection, PostgresPool

__all__ = ["ClientService"]


def to_client(record: ClientRecord) -> Client:
    return Client(
        client_id=record.client_id,
        client_name=record.client_name,
        grant_types=record.grant_types,
        scope=" ".join(record.scopes),
        token_endpoint_auth_method=record.token_endpoint_auth_method,
        client_id_issued_at=int(record.created_at.timestamp()),
        resources=record.resources,
        default_resource=record.default_resource,
        resource_server=record.resource_server,
        redirect_uris=record.redirect_uris,
        post_logout_redirect_uris=record.post_logout_redirect_uris,
        response_types=record.response_types,
        backchannel_logout_uri=record.backchannel_logout_uri,
        first_party=record.first_party,
    )


def _with_secret(record: ClientRecord, secret: str | None) -> ClientWithSecret:
    return ClientWithSecret(**msgspec.structs.asdict(to_client(record)), client_secret=secret)


def _audited(fields: ClientFields) -> dict[str, object]:
    return {
        "grant_types": fields.grant_types,
        "scope": " ".join(fields.scopes),
        "token_endpoint_auth_method": fields.token_endpoint_auth_method,
        "resources": fields.resources,
        "default_resource": fields.default_resource,
        "resource_server": fields.resource_server,
        "redirect_uris": fields.redirect_uris,
        "post_logout_redirect_uris": fields.post_logout_redirect_uris,
        "response_types": fields.response_types,
        "backchannel_logout_uri": fields.backchannel_logout_uri,
        "first_party": fields.first_party,
    }


def _changed(before: ClientFields, after: ClientFields) -> dict[str, object]:
    old = _audited(before)
    return {name: value for name, value in _audited(after).items() if old[name] != value}


class ClientService:
    __slots__ = ("_audit", "_clients", "_directory", "_pool", "_revoker", "_rules", "_uris")

    def __init__(
        self,
        pool: PostgresPool,
        audit: AuditTrail,
        directory: ClientDirectory,
        revoker: Revoker,
        *,
        development: bool = False,
    ) -> None:
        """``directory``: what the OAuth endpoints read clients through, told of every change;
        ``development`` (``settings.oidc.environment``) accepts ``http:`` URIs on any host."""
        self._uris = UriRules(development=development)
        self._pool = pool
        self._directory = directory
        self._audit = audit
        self._revoker = revoker
        self._clients = ClientRepository()
        self._rules = ClientRules()

    async def page(self, after: str | None, limit: int) -> list[Client]:
        async with self._pool.acquire() as conn:
            return [to_client(r) for r in await self._clients.page(conn, after, limit)]

    async def get(self, client_id: str) -> Client:
        async with self._pool.acquire() as conn:
            record = await self._clients.get(conn, client_id)
        if record is None:
            raise ClientNotFound()
        return to_client(record)

    async def create(self, data: ClientCreate, actor: Actor) -> ClientWithSecret:
        confidential = data.token_endpoint_auth_method != "none"  # noqa: S105
        grants = checked_grants(data.grant_types, confidential)
        client_id = checked_client_id(data.client_id)
        uris, public = self._uris, not confidential
        redirect_uris = uris.redirect_uris("redirect_uris", data.redirect_uris, public=public)
        post_logout = uris.redirect_uris(
            "post_logout_redirect_uris", data.post_logout_redirect_uris, public=public
        )
        secret = new_secret() if confidential else None
        async with self._pool.acquire() as conn, conn.transaction():
            scopes = await self._rules.scopes(conn, data.scope)
            resources = data.resources
            if resources is None:
                resources = await self._rules.default_resources(conn, scopes)
            fields = ClientFields(
                client_name=data.client_name,
                grant_types=grants,
                scopes=scopes,
                token_endpoint_auth_method=data.token_endpoint_auth_method,
                resources=sorted(set(resources)),
                default_resource=data.default_resource,
                resource_server=data.resource_server,
                redirect_uris=redirect_uris,
                post_logout_redirect_uris=post_logout,
                response_types=checked_response_types(data.response_types, grants),
                backchannel_logout_uri=uris.backchannel_logout_uri(data.backchannel_logout_uri),
                first_party=data.first_party,
            )
            await self._rules.check(conn, actor, fields, None)
            record = await self._clients.insert(conn, client_id, digest(secret) if secret else None, fields)
            await self._audit.record(
                "client.create",
                actor,
                target_type="client",
                target_id=client_id,
                details=_audited(fields),
                conn=conn,
            )
        return _with_secret(record, secret)

    async def update(self, client_id: str, data: ClientUpdate, actor: Actor) -> Client:
        async with self._pool.acquire() as conn, conn.transaction():
            current = await self._clients.get(conn, client_id, for_update=True)
            if current is None:
                raise ClientNotFound()
            fields = await self._updated(conn, current, data)
            await self._rules.check(conn, actor, fields, current.fields)
            record = await self._clients.update(conn, client_id, fields)
            if _narrowed(current.fields, fields):
                await self._revoker.client(conn, client_id)
            await self._audit.record(
                "client.update",
                actor,
                target_type="client",
                target_id=client_id,
                details=_changed(current.fields, fields),
                conn=conn,
            )
        self._directory.forget(client_id)  # after the commit: a read from now on sees the change
        return to_client(record)

    async def _updated(self, conn: Connection, current: ClientRecord, data: ClientUpdate) -> ClientFields:
        """The client as ``data`` leaves it: absent fields as they are."""
        method = data.token_endpoint_auth_method or current.token_endpoint_auth_method
        if not current.confidential and method != "none":
            raise InvalidField("token_endpoint_auth_method", "A public client has no secret to send.")
        grants = (
            current.grant_types
            if data.grant_types is None
            else checked_grants(data.grant_types, current.confidential)
        )
        return ClientFields(
            client_name=data.client_name or current.client_name,
            grant_types=grants,
            scopes=current.scopes if data.scope is None else await self._rules.scopes(conn, data.scope),
            token_endpoint_auth_method=method,
            resources=current.resources if data.resources is None else sorted(set(data.resources)),
            default_resource=(
                current.default_resource if data.default_resource is msgspec.UNSET else data.default_resource
            ),
            resource_server=(
                current.resource_server if data.resource_server is msgspec.UNSET else data.resource_server
            ),
            **front_channel_update(self._uris, current, data, grants),
        )

    async def rotate_secret(self, client_id: str, actor: Actor) -> ClientWithSecret:
        """The new secret hands over all the client holds: the actor must hold all of it too."""
        secret = new_secret()
        async with self._pool.acquire() as conn, conn.transaction():
            record = await self._clients.get(conn, client_id, for_update=True)
            if record is None:
                raise ClientNotFound()
            if not record.confidential:
                raise PublicClient()
            await self._rules.require_all(conn, actor, record)
            await self._clients.set_secret(conn, client_id, digest(secret))
            await self._audit.record(
                "client.secret_rotate", actor, target_type="client", target_id=client_id, conn=conn
            )
        self._directory.forget(client_id)
        return _with_secret(record, secret)

    async def delete(self, client_id: str, actor: Actor) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if not await self._clients.delete(conn, client_id):
                raise ClientNotFound()
            await self._revoker.client(conn, client_id)
            await self._audit.record(
                "client.delete", actor, target_type="client", target_id=client_id, conn=conn
            )
        self._directory.forget(client_id)


def _narrowed(before: ClientFields, after: ClientFields) -> bool:
    """The client lost a scope, a grant or a resource: its live tokens may carry what it no longer
    has, so they are revoked (users' sessions go on; their next refresh is narrowed too)."""
    return not (
        set(after.scopes) >= set(before.scopes)
        and set(after.grant_types) >= set(before.grant_types)
        and set(after.resources) >= set(before.resources)
    )
