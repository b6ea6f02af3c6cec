"""``OutboxDelivery``: each replica's sender loop, from the ``mail_outbox`` table to the SMTP server.

Started in the app's lifespan (``AuthServices.running``), like the revocation publisher and
back-channel logout. A round claims due rows (``FOR UPDATE SKIP LOCKED``, so replicas share the
work and never wait on each other) and leases them by moving ``next_attempt_at`` past the time a
delivery may take, in one short transaction; then it talks SMTP with no transaction open and
records each outcome: sent (the sealed message dropped), retried after a pause that doubles per
failure, or given up (an SMTP 5xx, or ``AUTH_MAIL_MAX_ATTEMPTS`` reached) and kept with its last
error, logged at ERROR and counted. A replica that dies mid-round leaves leased rows that another
picks up when the lease ends: a message may then go twice, never zero times.

Woken by this replica's own enqueues (``MailOutbox.on_queued``) and otherwise every
``AUTH_MAIL_POLL_INTERVAL`` seconds. Every outcome counts in
``auth_mail_deliveries_total{kind,outcome}`` (``sent``, ``retried``, ``failed``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from prometheus_client import Counter

from auth_service.keys.sealing import KeyEncryptionKey, KeyEncryptionKeyError
from auth_service.mail.composer import MAIL_KINDS
from auth_service.mail.outbox import associated_data
from auth_service.mail.repository import ClaimedMail, OutboxRepository
from auth_service.mail.smtp import Delivery, Outgoing, SmtpTransport
from shared.db.pool import Connection, PostgresPool
from shared.metrics.service import ServiceMetrics
from shared.tasks import cancel_and_wait

__all__ = ["BATCH", "MAX_BACKOFF", "OUTCOMES", "OutboxDelivery"]

log = logging.getLogger(__name__)

BATCH = 20
"""Messages per round (one SMTP connection)."""
MAX_BACKOFF = 900.0
"""Longest pause between two attempts at one message, in seconds."""
KEEP_SENT_DAYS = 30
"""Days the record of a sent message (kind, recipient, times; not its content) is kept."""
FORGET_INTERVAL = 3600.0
OUTCOMES = ("sent", "retried", "failed")


class OutboxDelivery:
    __slots__ = ("_backoff", "_batch", "_counts", "_kek", "_lease", "_max_attempts", "_next_forget",
                 "_poll_interval", "_pool", "_repo", "_stopping", "_task", "_transport", "_wake")  # fmt: skip

    def __init__(
        self,
        pool: PostgresPool,
        kek: KeyEncryptionKey,
        transport: SmtpTransport,
        metrics: ServiceMetrics,
        *,
        poll_interval: float,
        max_attempts: int,
        backoff: float,
        lease_seconds: float,
        batch: int = BATCH,
    ) -> None:
        """``backoff``: the first pause before a retry; ``lease_seconds``: how long a claimed row is
        left alone by other senders (longer than a whole round's SMTP conversation may take)."""
        self._pool = pool
        self._kek = kek
        self._transport = transport
        self._poll_interval = poll_interval
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._lease = lease_seconds
        self._batch = batch
        self._repo = OutboxRepository()
        self._wake = asyncio.Event()
        self._stopping = False
        self._next_forget = 0.0
        self._task: asyncio.Task[None] | None = None
        counter = metrics.counter(
            "auth_mail_deliveries", "Outbox mail delivery attempts by kind and outcome.", "kind", "outcome"
        )
        self._counts: dict[tuple[str, str], Counter] = {
            (kind, outcome): counter.labels(kind, outcome) for kind in MAIL_KINDS for outcome in OUTCOMES
        }

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="mail-outbox-delivery")

    async def stop(self) -> None:
        """The round in flight is cancelled; its leased rows are retried when the lease ends."""
        task, self._task = self._task, None
        self._stopping = True
        await cancel_and_wait(task, "mail outbox delivery")

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            self._wake.clear()
            try:
                handled = await self.deliver_round()
                await self._forget_now_and_then()
            except Exception as exc:
                failures += 1
                log.warning("mail outbox: round failed (%s: %s); retrying", type(exc).__name__, exc)
                await asyncio.sleep(min(5.0, 0.2 * 2 ** min(failures, 5)))
                continue
            failures = 0
            if handled < self._batch:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_interval):
                        await self._wake.wait()

    async def deliver_round(self) -> int:
        """Claim what is due (at most one batch), deliver it, record each outcome; how many."""
        async with self._pool.acquire() as conn:
            claimed = await self._repo.claim(conn, self._batch, self._lease)
        if not claimed:
            return 0
        outcomes: dict[int, Delivery] = {}
        outgoing: list[tuple[int, Outgoing]] = []
        for index, mail in enumerate(claimed):
            try:
                data = self._kek.open(mail.message, associated_data(mail.id))
            except KeyEncryptionKeyError as exc:
                outcomes[index] = Delivery(str(exc), permanent=True)
                continue
            outgoing.append((index, Outgoing(mail.recipient, data)))
        delivered = await self._transport.deliver([message for _, message in outgoing])
        outcomes.update((index, delivery) for (index, _), delivery in zip(outgoing, delivered, strict=True))
        async with self._pool.acquire() as conn, conn.transaction():
            for index, mail in enumerate(claimed):
                await self._record(conn, mail, outcomes[index])
        return len(claimed)

    async def _record(self, conn: Connection, mail: ClaimedMail, delivery: Delivery) -> None:
        if delivery.sent:
            await self._repo.sent(conn, mail.id)
            self._count(mail.kind, "sent")
            log.info("mail %s (%s) sent", mail.id, mail.kind)
            return
        error = delivery.error or "unknown error"
        if delivery.permanent or mail.attempts >= self._max_attempts:
            await self._repo.give_up(conn, mail.id, error)
            self._count(mail.kind, "failed")
            log.error("mail %s (%s) given up after %d attempt(s), kept in the outbox: %s",
                      mail.id, mail.kind, mail.attempts, error)  # fmt: skip
            return
        pause = min(MAX_BACKOFF, self._backoff * 2 ** (mail.attempts - 1))
        await self._repo.retry(conn, mail.id, error, pause)
        self._count(mail.kind, "retried")
        log.warning("mail %s (%s) not delivered (attempt %d), retrying in %.1f s: %s",
                    mail.id, mail.kind, mail.attempts, pause, error)  # fmt: skip

    def _count(self, kind: str, outcome: str) -> None:
        counter = self._counts.get((kind, outcome))
        if counter is not None:
            counter.inc()

    async def _forget_now_and_then(self) -> None:
        now = time.monotonic()
        if now < self._next_forget:
            return
        self._next_forget = now + FORGET_INTERVAL
        async with self._pool.acquire() as conn:
            forgotten = await self._repo.forget_sent(conn, KEEP_SENT_DAYS)
        if forgotten:
            log.info("mail outbox: forgot %d message(s) sent over %d days ago", forgotten, KEEP_SENT_DAYS)
