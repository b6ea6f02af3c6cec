"""The auth service mailing through the test's own SMTP server, on a clock the test moves.

``mailing`` is the app (``AuthClient``) with ``AUTH_SMTP_*`` pointed at ``smtp_server`` (plain
SMTP on 127.0.0.1), its outbox polled every 50 ms, no answer budget on "forgot password" unless a
test sets one, and a ``ManualClock`` (the links' expiry): ``mailing.clock.advance(901)`` expires a
reset link without waiting for it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from auth_service.app import app_for
from auth_service.wiring import build_services
from tests.auth_service.conftest import AuthClient, SettingsFactory
from tests.mail_server import MailServer
from tests.shared.auth.clock import ManualClock

CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
PASSWORD = "a sturdy passphrase for the mail tests 7"
NEW_PASSWORD = "another sturdy passphrase after the reset 9"


class MailingClient(AuthClient):
    def __init__(self, client: TestClient[Any], services: Any, clock: ManualClock, smtp: MailServer) -> None:
        super().__init__(client, services)
        self.clock = clock
        self.smtp = smtp

    def form(self, path: str, fields: dict[str, str], **kwargs: Any) -> httpx.Response:
        """GET ``path`` (for the CSRF token), then POST ``fields`` to ``action`` (default: ``path``)."""
        page = self.http.get(path)
        assert page.status_code == 200, page.text[:500]
        match = CSRF_INPUT.search(page.text)
        assert match, page.text[:500]
        action = kwargs.pop("action", path.split("?", 1)[0])
        return self.http.post(action, data={"_csrf_token": match.group(1), **fields}, **kwargs)

    def post(self, action: str, fields: dict[str, str], **kwargs: Any) -> httpx.Response:
        """POST ``fields`` with a CSRF token of ours (taken from the forgot-password form)."""
        return self.form("/password/forgot", fields, action=action, **kwargs)

    def outbox(self, recipient: str | None = None) -> list[dict[str, Any]]:
        async def run() -> list[dict[str, Any]]:
            query = "SELECT kind, recipient, sent_at, failed_at FROM mail_outbox"
            rows = await self.services.pool.fetch(query + " ORDER BY created_at")
            return [dict(row) for row in rows if recipient is None or row["recipient"] == recipient]

        result: list[dict[str, Any]] = self.call(run)
        return result

    def delivered(self) -> None:
        """Every queued message has been handed to the SMTP server (or given up)."""
        deadline = time.monotonic() + 15
        while any(row["sent_at"] is None and row["failed_at"] is None for row in self.outbox()):
            assert time.monotonic() < deadline, self.outbox()
            time.sleep(0.02)


MailingFactory = Callable[..., AbstractContextManager[MailingClient]]


@pytest.fixture
def mailing_app(make_settings: SettingsFactory, smtp_server: MailServer) -> MailingFactory:
    """``mailing_app(**settings)``: a context manager serving the mailing app with those settings."""

    @contextmanager
    def serve(**overrides: Any) -> Iterator[MailingClient]:
        values: dict[str, Any] = {
            "smtp_host": smtp_server.host,
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
            "mail_poll_interval": 0.05,
            "password_reset_answer_seconds": 0,
            "registration_enabled": True,
            **overrides,
        }
        clock = ManualClock(time.time())
        services = build_services(make_settings(**values), clock=clock)
        with TestClient(app_for(services)) as client:
            yield MailingClient(client, services, clock, smtp_server)

    return serve


@pytest.fixture
def mailing(mailing_app: MailingFactory) -> Iterator[MailingClient]:
    with mailing_app() as client:
        yield client
