"""The device authorization grant's two sides (RFC 8628): the device's request, the person's answer.

A device (a CLI, a TV) asks ``POST /oauth/device_authorization`` and gets a ``device_code`` to poll
with and a ``user_code`` for the person; the person opens ``/device`` in a browser, logs in (the same
login page and session as the code flow), sees which app asks for what (always: RFC 8628 section
5.4, a user code can be phished remotely) and allows or denies. The token endpoint's side is
``tokens/device_grant.py``.

The request's scope and resource are checked as the authorization endpoint checks them: identity
scopes need no registration, a resource scope the client may not have is ``invalid_scope``, the
audience is resolved at once (``invalid_target``); no ``scope`` asks for the client's scopes in
that audience. What the person's roles do not give is dropped at approval.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from auth_service.audit.service import Actor, AuditTrail
from auth_service.browser_settings import DeviceSettings
from auth_service.clients.authentication import ClientAuthenticator
from auth_service.clients.repository import ClientRecord
from auth_service.device.repository import DeviceRepository, NewDeviceAuthorization, PendingDevice
from auth_service.device.schemas import DEVICE_CODE_GRANT, DeviceAuthorizationResponse
from auth_service.device.user_codes import display, new_user_code, normalise
from auth_service.oidc.scopes import IDENTITY_SCOPES, split_identity
from auth_service.random_secrets import digest, new_secret
from auth_service.throttling.client_address import address_bucket
from auth_service.tokens.audience import AudienceResolver, parse_resources
from auth_service.tokens.errors import OAuthError, TemporarilyUnavailable
from auth_service.tokens.scopes import parse_scope
from shared.db.pool import PostgresPool

__all__ = ["DeviceAuthorizations", "requested_grant"]

_CODE_DRAWS = 5
"""User codes drawn before giving up: a clash among live codes is already rare (1 in 10^6 per
thousand live codes)."""


class AttemptLimiter(Protocol):
    """A per-subject limit (``throttling.window.SlidingWindowLimiter``)."""

    async def hit(self, subject: str) -> None:
        """Count one attempt; raise ``ThrottleRefusal`` to refuse it."""


def requested_grant(
    audiences: AudienceResolver, client: ClientRecord, scope: str | None, resource: str | None
) -> tuple[list[str], list[str]]:
    """``(scopes, resources)`` a person's login may grant ``client``, before the person's roles narrow it."""
    requested = parse_scope(scope)
    if requested is not None:
        beyond = [s for s in split_identity(requested)[1] if s not in client.scopes]
        if beyond:
            raise OAuthError("invalid_scope", f"This client may not ask for: {' '.join(beyond)}.")
    audience = audiences.resolve(client, parse_resources(resource), requested)
    return audience.token_scopes(client.scopes, requested), audience.resources


class DeviceAuthorizations:
    __slots__ = ("_attempts", "_audiences", "_audit", "_clients", "_pool", "_repo", "_settings", "_uri")

    def __init__(
        self,
        pool: PostgresPool,
        clients: ClientAuthenticator,
        audiences: AudienceResolver,
        audit: AuditTrail,
        settings: DeviceSettings,
        *,
        issuer: str,
        attempts: AttemptLimiter,
    ) -> None:
        """``attempts`` counts the codes tried at the page per source address (brute force)."""
        self._pool = pool
        self._clients = clients
        self._audiences = audiences
        self._audit = audit
        self._settings = settings
        self._uri = f"{issuer}/device"
        self._attempts = attempts
        self._repo = DeviceRepository()

    async def start(self, form: dict[str, str], authorization: str | None) -> DeviceAuthorizationResponse:
        """RFC 8628 section 3.1: client authenticated as at the token endpoint, then its grant."""
        client = await self._clients.authenticate(authorization, form)
        if DEVICE_CODE_GRANT not in client.grant_types:
            raise OAuthError("unauthorized_client", "This client may not use the device authorization grant.")
        scopes, resources = requested_grant(self._audiences, client, form.get("scope"), form.get("resource"))
        settings = self._settings
        new = NewDeviceAuthorization(
            client_id=client.client_id,
            scopes=scopes,
            resources=resources,
            interval=settings.device_poll_interval,
            ttl=settings.device_code_ttl,
        )
        device_code = new_secret()
        async with self._pool.acquire() as conn:
            for _ in range(_CODE_DRAWS):
                user_code = new_user_code()
                if await self._repo.create(conn, digest(device_code), user_code, new):
                    break
            else:
                raise TemporarilyUnavailable("No free user code; retry.")
        shown = display(user_code)
        return DeviceAuthorizationResponse(
            device_code=device_code,
            user_code=shown,
            verification_uri=self._uri,
            verification_uri_complete=f"{self._uri}?user_code={shown}",
            expires_in=settings.device_code_ttl,
            interval=settings.device_poll_interval,
        )

    async def find(self, typed: str | None, source_ip: str | None) -> PendingDevice | None:
        """The pending request of a code a person typed; every try counts against their address
        (``Throttled`` over the limit), so a live code cannot be found by guessing."""
        await self._attempts.hit(address_bucket(source_ip))
        code = normalise(typed)
        if code is None:
            return None
        async with self._pool.acquire() as conn:
            return await self._repo.pending(conn, code)

    async def approve(
        self,
        pending: PendingDevice,
        *,
        user_id: UUID,
        browser_session_id: UUID | None,
        auth_time: int,
        amr: list[str],
        acr: str,
        source_ip: str | None,
    ) -> bool:
        """False if the code stopped being pending meanwhile (expired, answered in another tab)."""
        async with self._pool.acquire() as conn, conn.transaction():
            approved = await self._repo.approve(
                conn,
                pending.user_code,
                user_id=user_id,
                browser_session_id=browser_session_id,
                auth_time=auth_time,
                amr=amr,
                acr=acr,
                identity_scopes=sorted(IDENTITY_SCOPES),
            )
            if approved is None:
                return False
            client_id, granted = approved
            await self._audit.record(
                "device.approve",
                Actor(id=str(user_id), source_ip=source_ip),
                target_type="client",
                target_id=client_id,
                details={"scope": " ".join(granted)},
                conn=conn,
            )
        return True

    async def deny(self, pending: PendingDevice, *, user_id: UUID, source_ip: str | None) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            client_id = await self._repo.deny(conn, pending.user_code)
            if client_id is None:
                return False
            actor = Actor(id=str(user_id), source_ip=source_ip)
            await self._audit.record(
                "device.deny", actor, target_type="client", target_id=client_id, conn=conn
            )
        return True
