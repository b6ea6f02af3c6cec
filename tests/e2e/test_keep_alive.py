"""The keep-alive timeout reaches the server: uvicorn's own 5 s is shorter than a load balancer's
idle timeout, which then reuses connections the server has just closed (a reset mid-request).
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from devstack.databases import create_database, drop_database
from tests.conftest import SESSION_TAG
from tests.processes import ServiceProcess

pytestmark = pytest.mark.e2e

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"


def _idle_connection_closed_after(process: ServiceProcess, seconds: float) -> bool:
    host, port = process.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(REQUEST)
        assert b"200" in conn.recv(65536).split(b"\r\n", 1)[0]
        time.sleep(seconds)
        conn.settimeout(0.5)
        try:
            return conn.recv(1) == b""
        except TimeoutError:
            return False


# Past a 1 s setting it is closed; by default it outlives uvicorn's own 5 s.
@pytest.mark.parametrize(("setting", "idle", "closed"), [("1", 2.5, True), (None, 6.0, False)])
def test_idle_connections_stay_open_for_the_keep_alive_timeout(
    setting: str | None,
    idle: float,
    closed: bool,
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
        assert _idle_connection_closed_after(process, idle) is closed
    finally:
        process.stop()
        asyncio.run(drop_database(pg_server_url, name))
