"""Stopping a background task for certain.

A cancellation that lands while redis-py reads a reply can be swallowed (seen with redis-py 8.1):
the task goes on, and a plain ``cancel(); await task`` waits for ever. So the cancellation is
repeated until the task has ended; loops also check a stop flag of their own.
"""

from __future__ import annotations

import asyncio
import logging

__all__ = ["cancel_and_wait"]

log = logging.getLogger(__name__)


async def cancel_and_wait(task: asyncio.Task[None] | None, what: str) -> None:
    """Cancel ``task`` until it has ended; an exception it ended with is logged (``what`` names it)."""
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
    if not task.cancelled() and task.exception() is not None:
        log.error("%s ended with %r", what, task.exception())
