"""Run an ASGI app under uvicorn on a socket we bind ourselves.

Binding first lets a taken port fail with one clear line (naming the variable to change) instead
of uvicorn's traceback, and hands uvicorn a ready socket, so there is no window in which another
process can take the port. uvicorn (uvloop + httptools) was chosen over granian by
``bench/asgi_server.py``; see the README.
"""

from __future__ import annotations

import errno
import gc
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


def freeze_startup_objects() -> None:
    """Move everything built so far (modules, the app, its routes and schemas) out of the garbage
    collector's reach.

    These objects live as long as the process, yet every full collection walked all of them: about
    85 ms for the customer service, a pause that every request in flight waited out, and the whole
    of its p99 latency under load (``bench/customer_peers.sh``). Frozen, a full collection only walks
    what was allocated since, and takes well under a millisecond. Instagram's and the CPython docs'
    recipe: collect first, so no garbage is frozen with them.
    """
    gc.collect()
    gc.freeze()


def serve(
    app: Litestar,
    sock: socket.socket,
    *,
    log_level: str,
    keep_alive_timeout: int,
    graceful_timeout: int = 20,
) -> None:
    """Serve until SIGINT/SIGTERM; in-flight requests drain for up to ``graceful_timeout`` s.

    ``keep_alive_timeout`` replaces uvicorn's 5 s, which is shorter than any load balancer's idle
    timeout: the server then closes connections the balancer is about to reuse.
    """
    config = uvicorn.Config(
        app,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        log_level=log_level.lower(),
        timeout_graceful_shutdown=graceful_timeout,
        timeout_keep_alive=keep_alive_timeout,
        server_header=False,
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    freeze_startup_objects()
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(3)
