"""OpenID Connect Back-Channel Logout 1.0: telling each app that a browser session it took part
in has ended, server to server, so it ends its own session without the browser.

Registered as a ``BrowserSessions.on_ended`` hook (after the commit): for every client whose
refresh families the session created and that registered a ``backchannel_logout_uri``, a logout
token (section 2.4: ``iss aud iat exp jti sub sid events``, never a ``nonce``, ``typ``
``logout+jwt``, signed with the current key) is POSTed as ``logout_token=`` (section 2.5). The
notices run as background tasks, so a slow or dead app never delays the logout the person sees;
each gets ``timeout`` seconds, and a network failure or a 5xx is retried twice with a growing
pause. A 4xx is the app refusing the token: not retried. Redirects are not followed (the URI is
where the app asked to be told, nowhere else). Every outcome is logged and counted
(``auth_backchannel_logouts_total{outcome}``); ``stop()`` cancels what is still in flight.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from functools import partial
from typing import Any, cast

import httpx

from auth_service.browser_sessions.service import EndedSession
from auth_service.clients.directory import ClientDirectory
from auth_service.keys.keyring import Keyring
from shared.metrics.service import ServiceMetrics
from shared.tasks import cancel_and_wait

__all__ = ["BACKCHANNEL_LOGOUT_EVENT", "LOGOUT_TOKEN_TTL", "LOGOUT_TOKEN_TYP", "BackchannelLogout"]

log = logging.getLogger(__name__)

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYP = "logout+jwt"  # noqa: S105
LOGOUT_TOKEN_TTL = 120
"""Seconds a logout token is valid: it is sent at once; the app should refuse a replay later."""
OUTCOMES = ("delivered", "refused", "failed", "cancelled")


class BackchannelLogout:
    __slots__ = ("_backoff", "_clock", "_directory", "_http", "_issuer", "_keyring", "_outcomes",
                 "_retries", "_tasks", "_timeout")  # fmt: skip

    def __init__(
        self,
        keyring: Keyring,
        directory: ClientDirectory,
        metrics: ServiceMetrics,
        *,
        issuer: str,
        timeout: float,
        retries: int = 2,
        backoff: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``timeout``: ``settings.device.backchannel_logout_timeout``, per request; ``backoff``:
        the first pause before a retry (doubled each time)."""
        self._keyring = keyring
        self._directory = directory
        self._issuer = issuer
        self._timeout = timeout
        self._retries = retries
        self._backoff = backoff
        self._clock = clock
        self._http: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[tuple[str, str]]] = set()
        counter = metrics.counter(
            "auth_backchannel_logouts", "Back-channel logout notices by outcome.", "outcome"
        )
        self._outcomes = {outcome: counter.labels(outcome) for outcome in OUTCOMES}

    async def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)

    async def stop(self) -> None:
        """Cancel the notices still in flight (each counted ``cancelled``), then close the client."""
        for task in list(self._tasks):
            await cancel_and_wait(cast("asyncio.Task[None]", task), "a back-channel logout notice")
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def idle(self) -> None:
        """Wait until every notice sent so far has its outcome (tests, graceful shutdowns)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def notify(self, ended: EndedSession) -> None:
        """The ``on_ended`` hook: one background notice per client with a back-channel URI."""
        for client_id in sorted(set(ended.client_ids)):
            client = await self._directory.get(client_id)
            if client is None or client.backchannel_logout_uri is None:
                continue
            token = self.logout_token(ended, client_id)
            task = asyncio.create_task(self._attempts(client.backchannel_logout_uri, token))
            self._tasks.add(task)
            task.add_done_callback(partial(self._finished, ended, client_id))

    def logout_token(self, ended: EndedSession, client_id: str) -> str:
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + LOGOUT_TOKEN_TTL,
            "jti": secrets.token_urlsafe(16),
            "sub": str(ended.user_id),
            "sid": str(ended.id),
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        }
        return self._keyring.signer.sign(claims, typ=LOGOUT_TOKEN_TYP)

    def _finished(self, ended: EndedSession, client_id: str, task: asyncio.Task[tuple[str, str]]) -> None:
        """Count and log the notice's outcome (``cancelled`` too, even before it started)."""
        self._tasks.discard(task)
        if task.cancelled():
            outcome, detail = "cancelled", ""
        elif (error := task.exception()) is not None:
            outcome, detail = "failed", repr(error)
        else:
            outcome, detail = task.result()
        self._outcomes[outcome].inc()
        level = logging.INFO if outcome == "delivered" else logging.WARNING
        log.log(level, "back-channel logout of session %s to client %s: %s %s",
                ended.id, client_id, outcome, detail)  # fmt: skip

    async def _attempts(self, uri: str, token: str) -> tuple[str, str]:
        """``(outcome, detail)`` after at most ``1 + retries`` attempts."""
        pause, detail = self._backoff, ""
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(pause)
                pause *= 2
            http = self._http
            if http is None:
                return "failed", "the sender is not started"
            try:
                response = await http.post(uri, data={"logout_token": token})
            except httpx.HTTPError as exc:
                detail = f"{type(exc).__name__} (attempt {attempt + 1})"
                continue
            if response.is_success:
                return "delivered", f"HTTP {response.status_code}"
            detail = f"HTTP {response.status_code} (attempt {attempt + 1})"
            if response.status_code < 500 and response.status_code != 429:
                return "refused", detail
        return "failed", detail
