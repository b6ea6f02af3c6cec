"""The passkeys section of the account page (an ``AccountSection`` of the account context).

The account page includes ``account_passkeys.html`` with this section's context under
``extra.passkeys``: the same list and forms as ``/account/passkeys`` (``passkey_list.html``),
whose routes answer there; adding one is a link to that page (it needs a recent login).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from auth_service.passkeys.account_pages import passkey_rows
from auth_service.passkeys.service import PasskeyService

__all__ = ["PasskeySection"]


class PasskeySection:
    __slots__ = ("_limit", "_passkeys")

    def __init__(self, passkeys: PasskeyService, limit: int) -> None:
        self._passkeys = passkeys
        self._limit = limit

    @property
    def name(self) -> str:
        return "passkeys"

    async def context(self, user_id: UUID) -> Mapping[str, Any]:
        passkeys = await self._passkeys.of_user(user_id)
        return {"passkeys": passkey_rows(passkeys), "full": len(passkeys) >= self._limit}
