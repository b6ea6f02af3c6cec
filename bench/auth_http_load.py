"""A small closed-loop HTTP/1.1 load generator on asyncio streams (keep-alive, 127.0.0.1 only).

Cheaper per request than an HTTP client library, so more of the box is left to the server; each
connection sends a request, reads the whole answer, and sends the next (``next_request`` may use
the previous answer, e.g. to chain refresh tokens). Bounded by a deadline.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["LoadResult", "Request", "form_post", "run_load"]

_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)

Request = bytes
NextRequest = Callable[[int, bytes | None], Request]


def form_post(url: str, body: str, headers: dict[str, str] | None = None) -> Request:
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError("load is only ever sent to this machine")
    lines = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(body.encode())}",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
        "",
        body,
    ]
    return "\r\n".join(lines).encode()


@dataclass
class LoadResult:
    seconds: float = 0.0
    ok: int = 0
    failed: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


async def _connection(
    host: str, port: int, next_request: NextRequest, deadline: float, result: LoadResult, worker: int
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    previous: bytes | None = None
    try:
        while time.monotonic() < deadline:
            writer.write(next_request(worker, previous))
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            match = _LENGTH.search(head)
            body = await reader.readexactly(int(match.group(1))) if match else b""
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status == 200:
                result.ok += 1
                previous = body
            else:
                result.failed += 1
    finally:
        writer.close()


async def run_load(url: str, next_request: NextRequest, *, connections: int, seconds: float) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    result = LoadResult()
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(
        *(_connection(host, port, next_request, deadline, result, i) for i in range(connections))
    )
    result.seconds = time.monotonic() - started
    return result
