"""The keep-alive timeout reaches the server: uvicorn's own 5 s is shorter than a load balancer's
idle timeout, which then reuses connections the server has just closed (a reset mid-request).
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from pathlib import Path

import pytest

from devstack.databases import create_database, drop_database
from tests.conftest import SESSION_TAG
from tests.processes import ServiceProcess

pytestmark = pytest.mark.e2e

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"


def _read_answer(conn: socket.socket) -> None:
    """The whole answer, head and body (they may come in separate reads)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += _more(conn)
    head, body = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200"), head
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    assert length is not None, head
    while len(body) < int(length.group(1)):
        body += _more(conn)


def _more(conn: socket.socket) -> bytes:
    chunk = conn.recv(65536)
    assert chunk, "the server closed the connection in the middle of its answer"
    return chunk


def _idle_seconds_until_closed(process: ServiceProcess, wait: float) -> float | None:
    """Seconds an idle keep-alive connection stayed open after its answer, or ``None`` if it was
    still open after ``wait`` seconds."""
    host, port = process.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(REQUEST)
        _read_answer(conn)
        answered = time.monotonic()
        conn.settimeout(wait)
        try:
            assert conn.recv(1) == b""  # closed by the server, nothing else sent
        except TimeoutError:
            return None
        return time.monotonic() - answered


# Set to 1 s, the server closes it after about that (a loaded machine may delay the close, never
# hasten it); by default it outlives uvicorn's own 5 s.
@pytest.mark.parametrize("setting", ["1", None])
def test_idle_connections_stay_open_for_the_keep_alive_timeout(
    setting: str | None,
    customer_template: str,
    pg_server_url: str,
    tmp_path: Path,
) -> None:
    name = f"test_{SESSION_TAG}_keepalive_{setting or 'default'}"
    url = asyncio.run(create_database(pg_server_url, name, template=customer_template))
    env = {"CUSTOMER_DATABASE_URL": url, "CUSTOMER_CHECK_REVOCATION": "false"}
    if setting is not None:
        env["CUSTOMER_KEEP_ALIVE_TIMEOUT"] = setting
    process = ServiceProcess("customer_service", env, tmp_path).start(wait_ready=False)
    try:
        if setting is None:
            assert _idle_seconds_until_closed(process, wait=6.0) is None
        else:
            closed_after = _idle_seconds_until_closed(process, wait=20.0)
            assert closed_after is not None, "still open 20 s after a 1 s keep-alive timeout"
            assert 0.9 <= closed_after < 4.5  # not uvicorn's own 5 s: the setting took effect
    finally:
        process.stop()
        asyncio.run(drop_database(pg_server_url, name))
