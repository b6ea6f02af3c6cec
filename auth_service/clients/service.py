"""Client registration rules: grants and scopes checked, secrets generated here and shown once."""

from __future__ import annotations

import secrets

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.directory import ClientDirectory
from auth_service.clients.repository import ClientRecord, ClientRepository
from auth_service.clients.schemas import Client, ClientCreate, ClientUpdate, ClientWithSecret
from auth_service.errors import ClientNotFound, InvalidField, PublicClient
from auth_service.random_secrets import digest, new_secret
from shared.db.pool import PostgresPool

__all__ = ["ClientService"]


def to_client(record: ClientRecord) -> Client:
    return Client(
        client_id=record.client_id,
        client_name=record.client_name,
        grant_types=record.grant_types,
        scope=" ".join(record.scopes),
        token_endpoint_auth_method="client_secret_basic" if record.confidential else "none",
        client_id_issued_at=int(record.created_at.timestamp()),
    )


def _with_secret(record: ClientRecord, secret: str | None) -> ClientWithSecret:
    client = to_client(record)
    return ClientWithSecret(
        client_id=client.client_id,
        client_name=client.client_name,
        grant_types=client.grant_types,
        scope=client.scope,
        token_endpoint_auth_method=client.token_endpoint_auth_method,
        client_id_issued_at=client.client_id_issued_at,
        client_secret=secret,
    )


class ClientService:
    __slots__ = ("_audit", "_clients", "_directory", "_pool", "_scopes")

    def __init__(
        self, pool: PostgresPool, scopes_supported: list[str], audit: AuditTrail, directory: ClientDirectory
    ) -> None:
        """``directory``: what the OAuth endpoints read clients through, told of every change."""
        self._pool = pool
        self._directory = directory
        self._scopes = frozenset(scopes_supported)
        self._audit = audit
        self._clients = ClientRepository()

    def _checked_scopes(self, scope: str) -> list[str]:
        scopes = sorted(set(scope.split()))
        unknown = [s for s in scopes if s not in self._scopes]
        if unknown:
            raise InvalidField("scope", f"Unknown scopes: {' '.join(unknown)} (see scopes_supported).")
        return scopes

    @staticmethod
    def _checked_grants(grant_types: list[str], confidential: bool) -> list[str]:
        grants = sorted(set(grant_types))
        if not grants:
            raise InvalidField("grant_types", "A client needs at least one grant type.")
        if "client_credentials" in grants and not confidential:
            raise InvalidField(
                "grant_types", "client_credentials needs a confidential client (with a secret)."
            )
        return grants

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
        grants = self._checked_grants(list(data.grant_types), confidential)
        scopes = self._checked_scopes(data.scope)
        secret = new_secret() if confidential else None
        client_id = data.client_id or secrets.token_urlsafe(16)
        async with self._pool.acquire() as conn, conn.transaction():
            record = await self._clients.insert(
                conn,
                client_id=client_id,
                client_name=data.client_name,
                secret_digest=digest(secret) if secret else None,
                grant_types=grants,
                scopes=scopes,
            )
            await self._audit.record(
                "client.create",
                actor,
                target_type="client",
                target_id=client_id,
                details={"grant_types": grants, "scope": " ".join(scopes)},
                conn=conn,
            )
        return _with_secret(record, secret)

    async def update(self, client_id: str, data: ClientUpdate, actor: Actor) -> Client:
        scopes = self._checked_scopes(data.scope) if data.scope is not None else None
        async with self._pool.acquire() as conn, conn.transaction():
            current = await self._clients.get(conn, client_id)
            if current is None:
                raise ClientNotFound()
            grants = (
                self._checked_grants(list(data.grant_types), current.confidential)
                if data.grant_types is not None
                else None
            )
            record = await self._clients.update(
                conn, client_id, client_name=data.client_name, grant_types=grants, scopes=scopes
            )
            assert record is not None
            await self._audit.record(
                "client.update",
                actor,
                target_type="client",
                target_id=client_id,
                details={
                    k: v for k, v in {"grant_types": grants, "scope": data.scope}.items() if v is not None
                },
                conn=conn,
            )
        self._directory.forget(client_id)  # after the commit: a read from now on sees the change
        return to_client(record)

    async def rotate_secret(self, client_id: str, actor: Actor) -> ClientWithSecret:
        secret = new_secret()
        async with self._pool.acquire() as conn, conn.transaction():
            record = await self._clients.get(conn, client_id)
            if record is None:
                raise ClientNotFound()
            if not record.confidential:
                raise PublicClient()
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
            await self._audit.record(
                "client.delete", actor, target_type="client", target_id=client_id, conn=conn
            )
        self._directory.forget(client_id)
