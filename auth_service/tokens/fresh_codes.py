"""The codes this process just issued, kept until their exchange so it can skip reading them back.

Nearly every code is exchanged within a second, at the process that made it: the authorization
endpoint keeps what it wrote (the code's bindings, and the person as the same statement read them)
and the token endpoint takes it from here instead of reading it from PostgreSQL, which leaves the
exchange one statement. Nothing is decided from memory alone: the claim (``redemption.py``) still
requires the code unused, unexpired, of this client, with a live browser session and an active
account, so a code used, expired or revoked meanwhile is refused as before. What memory can hold
back is only the person's profile and scopes, at most the code's lifetime (<= 60 s) old. Another
process (several replicas) or a restart finds nothing here and reads the code as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TTLCache

from auth_service.tokens.codes import ClaimedCode, NewCode
from auth_service.tokens.redemption import PresentedLogin
from auth_service.users.repository import UserRecord

__all__ = ["MAX_CODE_TTL", "FreshCodes"]

MAX_CODE_TTL = 60
"""RFC 6749 section 4.1.2's "maximum of 10 minutes", as this service bounds it (``LoginSettings``)."""


class FreshCodes:
    """At most ``max_codes`` codes, each kept ``ttl`` seconds (a code's longest life, which bounds
    the memory only: the claim decides expiry by the grant's clock). A flood of authorizations
    nobody exchanges evicts the oldest, which then are read from the database."""

    __slots__ = ("_codes",)

    def __init__(
        self, ttl: int = MAX_CODE_TTL, *, max_codes: int = 10_000, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._codes: TTLCache[bytes, tuple[str, PresentedLogin]] = TTLCache(max_codes, ttl, timer=timer)

    def keep(self, digest: bytes, code: NewCode, user: UserRecord) -> None:
        claimed = ClaimedCode(
            user_id=code.user_id,
            browser_session_id=code.browser_session_id,
            redirect_uri=code.redirect_uri,
            scope=" ".join(code.scopes),
            resources=code.resources,
            code_challenge=code.code_challenge,
            nonce=code.nonce,
            auth_time=code.auth_time,
            amr=code.amr,
            acr=code.acr,
        )
        self._codes[digest] = (code.client_id, PresentedLogin(claimed, user))

    def take(self, digest: bytes, client_id: str) -> PresentedLogin | None:
        """The code, once: a second presentation is read from the database (and refused there)."""
        kept = self._codes.pop(digest, None)
        return kept[1] if kept is not None and kept[0] == client_id else None
