"""The transactional outbox on a real database, delivering to a real SMTP server.

A message exists only if its transaction commits; it is sealed at rest and dropped once sent; a
server that is down then up gets it through the sender loop's retries; a permanent refusal, or
too many attempts, keeps it with its last error; two senders never send one message twice.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from auth_service.account_settings import MailSettings
from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.mail.composer import MailComposer
from auth_service.mail.delivery import OutboxDelivery
from auth_service.mail.outbox import MailOutbox
from auth_service.mail.smtp import SmtpTransport
from auth_service.metrics import AuthMetrics
from shared.db.pool import PostgresPool
from tests.mail_server import MailServer

LINK = "https://id.example/password/reset?token=live-secret-of-the-link"
KEK = KeyEncryptionKey(secrets.token_bytes(32))


@pytest.fixture
async def pool(auth_db: str) -> AsyncIterator[PostgresPool]:
    pool = PostgresPool(auth_db, min_size=1, max_size=4)
    await pool.open()
    yield pool
    await pool.close()


def composer() -> MailComposer:
    return MailComposer("Fintech Auth <no-reply@mail.example>", product="Fintech Auth", color="#0B5FFF",
                        default_locale="en")  # fmt: skip


def sender(
    pool: PostgresPool, server: MailServer, *, kek: KeyEncryptionKey = KEK, **options: Any
) -> tuple[OutboxDelivery, AuthMetrics]:
    settings = MailSettings(
        smtp_host=server.host, smtp_port=server.port, smtp_security="none", smtp_timeout=2
    )
    metrics = AuthMetrics()
    values: dict[str, Any] = {"poll_interval": 0.05, "max_attempts": 5, "backoff": 0.05, "lease_seconds": 30}
    delivery = OutboxDelivery(
        pool, kek, SmtpTransport(settings, sender="no-reply@mail.example"), metrics, **{**values, **options}
    )
    return delivery, metrics


async def enqueue(pool: PostgresPool, to: str = "ana@example.com", *, commit: bool = True) -> None:
    message = composer().compose(
        "password_reset", to=to, locale="en", context={"link": LINK, "validity": "15 minutes"}
    )
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await MailOutbox(KEK).enqueue(conn, message, kind="password_reset", user_id=None)
        await (transaction.commit() if commit else transaction.rollback())


async def rows(pool: PostgresPool) -> list[dict[str, Any]]:
    query = "SELECT recipient, message, attempts, last_error, sent_at, failed_at FROM mail_outbox"
    query += " ORDER BY created_at"
    return [dict(row) for row in await pool.fetch(query)]


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def count(metrics: AuthMetrics, outcome: str) -> float:
    labels = {"kind": "password_reset", "outcome": outcome}
    return metrics.registry.get_sample_value("auth_mail_deliveries_total", labels) or 0.0


async def test_only_a_committed_message_is_delivered(pool: PostgresPool, smtp_server: MailServer) -> None:
    await enqueue(pool, "rolled-back@example.com", commit=False)
    await enqueue(pool, "ana@example.com")
    delivery, metrics = sender(pool, smtp_server)
    assert await delivery.deliver_round() == 1
    assert [r.rcpt_tos for r in smtp_server.wait_for(1)] == [["ana@example.com"]]
    assert LINK in smtp_server.received[0].text()
    assert await delivery.deliver_round() == 0
    assert count(metrics, "sent") == 1


async def test_the_message_is_sealed_at_rest_and_dropped_once_sent(
    pool: PostgresPool, smtp_server: MailServer
) -> None:
    await enqueue(pool)
    [queued] = await rows(pool)
    assert b"live-secret-of-the-link" not in queued["message"]
    assert b"ana@example.com" not in queued["message"]
    await sender(pool, smtp_server)[0].deliver_round()
    [sent] = await rows(pool)
    assert sent["message"] is None
    assert sent["sent_at"] is not None
    assert sent["attempts"] == 1


async def test_a_server_down_then_up_gets_the_message_through_retries(
    pool: PostgresPool, smtp_server: MailServer
) -> None:
    smtp_server.stop()
    delivery, metrics = sender(pool, smtp_server)
    await delivery.start()
    try:
        await enqueue(pool)

        async def retried() -> bool:
            return any(r["last_error"] and r["attempts"] >= 2 for r in await rows(pool))

        await until(retried)
        smtp_server.start()
        [received] = await smtp_server.arrived(1)
        assert received.rcpt_tos == ["ana@example.com"]

        async def marked_sent() -> bool:
            return all(r["sent_at"] is not None for r in await rows(pool))

        await until(marked_sent)
    finally:
        await delivery.stop()
    [row] = await rows(pool)
    assert row["last_error"] is None
    assert row["failed_at"] is None
    assert count(metrics, "retried") >= 2
    assert count(metrics, "sent") == 1
    assert len(smtp_server.received) == 1


async def test_a_permanent_refusal_is_kept_with_its_error(
    pool: PostgresPool, smtp_server: MailServer
) -> None:
    smtp_server.refused.add("gone@example.com")
    await enqueue(pool, "gone@example.com")
    delivery, metrics = sender(pool, smtp_server)
    assert await delivery.deliver_round() == 1
    [row] = await rows(pool)
    assert row["failed_at"] is not None
    assert "550" in row["last_error"]
    assert row["message"] is not None  # kept: an operator can look and send it again
    assert await delivery.deliver_round() == 0
    assert count(metrics, "failed") == 1


async def test_a_message_that_keeps_failing_is_given_up_after_the_last_attempt(pool: PostgresPool) -> None:
    down = MailServer()  # nothing listens
    delivery, metrics = sender(pool, down, max_attempts=2, backoff=0.01)
    await enqueue(pool)
    await delivery.start()
    try:

        async def given_up() -> bool:
            return all(r["failed_at"] is not None for r in await rows(pool))

        await until(given_up)
    finally:
        await delivery.stop()
    [row] = await rows(pool)
    assert row["attempts"] == 2
    assert "Connect" in row["last_error"] or "refused" in row["last_error"].lower()
    assert (count(metrics, "retried"), count(metrics, "failed")) == (1, 1)


async def test_a_message_sealed_under_another_key_is_given_up(
    pool: PostgresPool, smtp_server: MailServer
) -> None:
    await enqueue(pool)
    other = KeyEncryptionKey(base64.urlsafe_b64decode(base64.urlsafe_b64encode(secrets.token_bytes(32))))
    assert await sender(pool, smtp_server, kek=other)[0].deliver_round() == 1
    [row] = await rows(pool)
    assert row["failed_at"] is not None
    assert "does not open" in row["last_error"]
    assert smtp_server.received == []


async def test_two_senders_share_the_work_and_send_each_message_once(
    pool: PostgresPool, smtp_server: MailServer
) -> None:
    for number in range(30):
        await enqueue(pool, f"person{number}@example.com")
    first, second = sender(pool, smtp_server)[0], sender(pool, smtp_server)[0]
    handled = await asyncio.gather(first.deliver_round(), second.deliver_round())
    handled_more = await asyncio.gather(first.deliver_round(), second.deliver_round())
    assert sum(handled) + sum(handled_more) == 30
    received = smtp_server.wait_for(30)
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(f"person{n}@example.com" for n in range(30))
    assert len(smtp_server.received) == 30
