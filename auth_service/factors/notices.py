"""Where security notices plug in: a hook told of every change to a person's second factors.

The mail context's outbox (``SecurityNotices.enqueue``) is the real hook: it is handed the
change's own connection, so a notice is queued only if the change commits. Without a hook
(``None``) nothing is sent; the audit trail records the change either way.
"""

from __future__ import annotations

from typing import Final, Protocol
from uuid import UUID

from shared.db.pool import Connection

__all__ = [
    "FACTORS_RESET",
    "FACTOR_ADDED",
    "FACTOR_REMOVED",
    "RECOVERY_CODES_REGENERATED",
    "RECOVERY_CODE_USED",
    "SecurityNoticeHook",
]

FACTOR_ADDED: Final = "factor_added"
FACTOR_REMOVED: Final = "factor_removed"
FACTORS_RESET: Final = "factors_reset"
"""An admin removed every second factor of the person."""
RECOVERY_CODE_USED: Final = "recovery_code_used"
RECOVERY_CODES_REGENERATED: Final = "recovery_codes_regenerated"


class SecurityNoticeHook(Protocol):
    async def enqueue(self, conn: Connection, user_id: UUID, kind: str) -> None:
        """Queue the notice ``kind`` for the person, in the caller's transaction."""
