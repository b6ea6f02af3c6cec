"""The device code grant (RFC 8628 section 3.4): a device polls until the person answered.

The checks, in order: a ``device_code`` of this client (unknown, another client's or already used
is ``invalid_grant``; another client's is not touched), not expired (``expired_token``), not
polled again before its interval (``slow_down``, and the interval grows by 5 s for every poll
after), then the person's answer: none yet ``authorization_pending``, denied ``access_denied``,
approved: claimed once and tokens issued (``LoginTokens``) in the same transaction, so a failure
to issue leaves it approved. The poll's row is locked for that transaction: two concurrent polls
cannot both claim it.
"""

from __future__ import annotations

from auth_service.audit.service import Actor
from auth_service.clients.repository import ClientRecord
from auth_service.device.repository import DevicePoll, DeviceRepository
from auth_service.random_secrets import digest
from auth_service.tokens.errors import OAuthError, invalid_grant, invalid_request
from auth_service.tokens.login_tokens import LoginGrant, LoginTokens
from auth_service.tokens.responses import TokenResponse
from shared.db.pool import PostgresPool

__all__ = ["DeviceCodeGrant"]

_UNKNOWN = "The device code is unknown, used, or not this client's."


class DeviceCodeGrant:
    __slots__ = ("_logins", "_pool", "_repo")

    def __init__(self, pool: PostgresPool, logins: LoginTokens) -> None:
        self._pool = pool
        self._logins = logins
        self._repo = DeviceRepository()

    async def __call__(self, client: ClientRecord, form: dict[str, str], actor: Actor) -> TokenResponse:
        device_code = form.get("device_code")
        if device_code is None:
            raise invalid_request("The device_code parameter is missing.")
        key = digest(device_code)
        async with self._pool.acquire() as conn, conn.transaction():
            poll = await self._repo.poll(conn, key)
            refusal = _refusal(poll, client)
            if refusal is None and poll is not None:
                await self._repo.used(conn, key)
                issued = await self._logins.issue(conn, client, _login_of(poll), actor)
                return issued.response
            if poll is not None and poll.client_id == client.client_id and poll.status != "used":
                await self._repo.polled(conn, key, slow_down=poll.too_soon)
        raise refusal or invalid_grant(_UNKNOWN)


def _refusal(poll: DevicePoll | None, client: ClientRecord) -> OAuthError | None:
    """Why this poll gets no tokens (None: it gets them)."""
    if poll is None or poll.client_id != client.client_id or poll.status == "used":
        return invalid_grant(_UNKNOWN)
    if poll.expired:
        return OAuthError("expired_token", "The device code expired; start again.")
    if poll.too_soon:
        return OAuthError("slow_down", "Polled before the interval; wait 5 s more between polls.")
    if poll.status == "pending":
        return OAuthError("authorization_pending", "The person has not answered yet.")
    if poll.status == "denied":
        return OAuthError("access_denied", "The person denied the request.")
    if poll.session_ended:
        return invalid_grant("The login that approved this device ended.")
    return None


def _login_of(poll: DevicePoll) -> LoginGrant:
    assert poll.user_id is not None
    assert poll.auth_time is not None
    return LoginGrant(
        user_id=poll.user_id,
        scopes=poll.scopes,
        resources=poll.resources,
        browser_session_id=poll.browser_session_id,
        auth_time=poll.auth_time,
        amr=poll.amr,
        acr=poll.acr,
    )
