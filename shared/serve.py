"""Run an ASGI app under uvicorn on a socket we bind ourselves.

Binding first lets a taken port fail with one clear line (naming the variable to change) instead
of uvicorn's traceback, and hands uvicorn a ready socket, so there is no window in which another
process can take the port. uvicorn (uvloop + httptools) was chosen over granian by
``bench/asgi_server.py``; see the README.
"""

from __future__ import annotations

import errno
import socket
import sys

import uvicorn
from litestar import Litestar

__all__ = ["PortInUse", "bind_socket", "serve"]


class PortInUse(RuntimeError):
    pass


def bind_socket(host: str, port: int, port_variable: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"{host}:{port} is already in use; set {port_variable} to a free port") from None
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror}; check {port_variable}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(app: Litestar, sock: socket.socket, *, log_level: str, graceful_timeout: int = 20) -> None:
    """Serve until SIGINT/SIGTERM; in-flight requests drain for up to ``graceful_timeout`` s."""
    config = uvicorn.Config(
        app,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        log_level=log_level.lower(),
        timeout_graceful_shutdown=graceful_timeout,
        server_header=False,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(3)
