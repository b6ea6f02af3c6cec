"""The revocations a verifier holds in memory, and the check every token goes through.

Pure: no I/O, so a token check is a few dict lookups (``RevocationFeed`` fills the set from the
auth service's stream). What each kind revokes is the contract's (``revocation_events``). An entry
is kept until ``keep_until(leeway)``: past it, every token it concerns is refused as expired by a
verifier with that leeway anyway, so dropping it late is harmless and dropping it early is the bug
this avoids (revoked tokens accepted again in the last ``leeway`` seconds of their life).

Expired entries are dropped from a heap ordered by ``keep_until``, at most every ``prune_every``
seconds, on ``add`` or ``prune_if_due``: each entry is popped once, and a check never scans.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable

from shared.auth.claims import AccessClaims
from shared.auth.revocation_events import MAX_LEEWAY, Revocation, RevocationKind

__all__ = ["RevocationSet"]

_Entry = tuple[float, float]
"""(``at``, ``keep_until``) of the latest revocation of one value of one kind."""


class RevocationSet:
    __slots__ = (
        "_client",
        "_clock",
        "_heap",
        "_jti",
        "_kid",
        "_leeway",
        "_next_prune",
        "_prune_every",
        "_role",
        "_sid",
        "_sub",
        "_tables",
    )

    def __init__(
        self, leeway: float, clock: Callable[[], float] = time.time, *, prune_every: float = 10.0
    ) -> None:
        """``leeway``: the clock leeway of the verifier this set serves (at most ``MAX_LEEWAY``)."""
        if not 0 <= leeway <= MAX_LEEWAY:
            raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY} seconds, not {leeway}")
        self._leeway = leeway
        self._clock = clock
        self._prune_every = prune_every
        self._next_prune = clock() + prune_every
        self._jti: dict[str, _Entry] = {}
        self._sid: dict[str, _Entry] = {}
        self._sub: dict[str, _Entry] = {}
        self._client: dict[str, _Entry] = {}
        self._role: dict[str, _Entry] = {}
        self._kid: dict[str, _Entry] = {}
        self._tables: dict[RevocationKind, dict[str, _Entry]] = {
            "jti": self._jti,
            "sid": self._sid,
            "sub": self._sub,
            "client": self._client,
            "role": self._role,
            "kid": self._kid,
        }
        self._heap: list[tuple[float, RevocationKind, str]] = []

    def __len__(self) -> int:
        return sum(len(table) for table in self._tables.values())

    def add(self, revocation: Revocation) -> None:
        """Hold ``revocation`` (a repeat, as after a reload, changes nothing). Two revocations of
        one subject, client or role merge into the later ``at`` and the later ``keep_until``: a
        token issued before the first was issued before the second too."""
        now = self._clock()
        keep_until = revocation.keep_until(self._leeway)
        if keep_until > now:
            table, value = self._tables[revocation.kind], revocation.value
            held = table.get(value)
            if held is None:
                table[value] = (revocation.at, keep_until)
                heapq.heappush(self._heap, (keep_until, revocation.kind, value))
            else:
                table[value] = (max(held[0], revocation.at), max(held[1], keep_until))
                if keep_until > held[1]:
                    heapq.heappush(self._heap, (keep_until, revocation.kind, value))
        if now >= self._next_prune:
            self._prune(now)

    def prune_if_due(self) -> None:
        now = self._clock()
        if now >= self._next_prune:
            self._prune(now)

    def _prune(self, now: float) -> None:
        self._next_prune = now + self._prune_every
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, kind, value = heapq.heappop(heap)
            table = self._tables[kind]
            held = table.get(value)
            if held is not None and held[1] <= now:  # not extended by a later revocation
                del table[value]

    def revoked(self, claims: AccessClaims) -> bool:
        """Called for every request: dict lookups only (``kid`` is the key source's business)."""
        if claims.jti in self._jti:
            return True
        if claims.sid is not None and claims.sid in self._sid:
            return True
        iat = claims.iat
        held = self._sub.get(claims.sub)
        if held is not None and iat <= held[0]:
            return True
        held = self._client.get(claims.client_id)
        if held is not None and iat <= held[0]:
            return True
        if self._role:
            for role in claims.roles:
                held = self._role.get(role)
                if held is not None and iat <= held[0]:
                    return True
        return False

    def issued_after(self, sub: str, client_id: str, roles: Iterable[str]) -> float | None:
        """The latest ``at`` among the subject-, client- and role-wide revocations a new token of
        ``sub``, ``client_id`` and ``roles`` falls under, if any.

        For an issuer: ``iat`` is whole seconds and those revocations refuse ``iat <= at``, so a
        token issued in the same second as one would be refused although issued after it. The
        issuer stamps such a token with the next second instead (verifiers accept an ``iat`` up to
        their leeway ahead)."""
        bounds = [self._sub.get(sub), self._client.get(client_id), *(self._role.get(r) for r in roles)]
        times = [held[0] for held in bounds if held is not None]
        return max(times) if times else None
