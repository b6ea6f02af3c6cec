"""argon2id hashing and verification on a dedicated thread pool.

argon2 releases the GIL, so hashing in threads uses every core while the event loop keeps serving;
a pool of its own (one thread per CPU by default) keeps a burst of logins from queueing behind, or
in front of, other blocking work. Unknown accounts are verified against a dummy hash with the same
parameters, so "no such user" costs what "wrong password" costs.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import unicodedata
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from auth_service.settings import PasswordSettings

__all__ = ["PasswordHashing", "normalise_password"]


def normalise_password(password: str) -> str:
    """NFKC, so one password typed on two keyboards (composed or not) is the same secret."""
    return unicodedata.normalize("NFKC", password)


class PasswordHashing:
    __slots__ = ("_dummy_hash", "_executor", "_hasher")

    def __init__(self, *, memory_kib: int, time_cost: int, parallelism: int, threads: int = 0) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._executor = ThreadPoolExecutor(
            max_workers=threads or os.cpu_count() or 1, thread_name_prefix="argon2"
        )
        self._dummy_hash: str | None = None

    @classmethod
    def from_settings(cls, settings: PasswordSettings) -> PasswordHashing:
        """The one way the app and the operator commands build it, so their parameters never drift."""
        return cls(
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
            parallelism=settings.argon2_parallelism,
            threads=settings.password_hashing_threads,
        )

    async def _run(self, fn: object, *args: str) -> object:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)  # type: ignore[arg-type]

    async def hash(self, password: str) -> str:
        """``password`` is already normalised and within the policy's length limit."""
        return str(await self._run(self._hasher.hash, password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; ``None`` (unknown account) costs the same and is False."""
        if password_hash is None:
            await self._run(self._verify, await self.dummy_hash(), password)
            return False
        return bool(await self._run(self._verify, password_hash, password))

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the configured ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    async def dummy_hash(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(24))
        return self._dummy_hash

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
