"""The mail outbox's sealed messages sealed again under the newest key-encryption key (``keys reseal``).

A message waiting in the outbox is sealed like a signing key (it carries live links), so a KEK
rotation must move it too before the previous KEK leaves the settings, or the sender could not
open it and would give it up. Run inside the signing keys' resealing transaction
(``keys/resealing.py``): all move or none does. Sent messages keep no content; messages given up
are never sent again, so only those still to be delivered move.
"""

from __future__ import annotations

from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.mail.outbox import associated_data
from auth_service.mail.repository import OutboxRepository
from shared.db.pool import Connection

__all__ = ["reseal_outbox"]


async def reseal_outbox(conn: Connection, kek: KeyEncryptionKey) -> int:
    """Every message still to be delivered under the newest KEK, in the caller's transaction."""
    repo, count = OutboxRepository(), 0
    for mail_id, sealed in await repo.pending_sealed(conn):
        resealed, _ = kek.reseal(sealed, associated_data(mail_id), name=f"mail {mail_id} in the outbox")
        await repo.replace_sealed(conn, mail_id, resealed)
        count += 1
    return count
