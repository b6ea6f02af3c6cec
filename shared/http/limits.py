"""431 for request headers larger than a setting, before any other work.

uvicorn's httptools parser sets no limit on header size, so a client could make every request
carry a megabyte of headers; well-behaved clients send a few hundred bytes (a bearer token is
under 2 KiB). A reverse proxy in front should limit too; this is the service's own floor.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from litestar.enums import ScopeType

from shared.logs import request_id_var

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

__all__ = ["HeaderLimitMiddleware", "install_header_limit"]


class HeaderLimitMiddleware:
    __slots__ = ("app", "max_header_bytes")

    def __init__(self, app: ASGIApp, max_header_bytes: int) -> None:
        self.app = app
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            size = 0
            for name, value in scope["headers"]:
                size += len(name) + len(value) + 4
            if size > self.max_header_bytes:
                await _send_431(send, self.max_header_bytes)
                return
        await self.app(scope, receive, send)


async def _send_431(send: Send, limit: int) -> None:
    problem = {
        "type": "about:blank",
        "title": "Request Header Fields Too Large",
        "status": 431,
        "detail": f"The request headers exceed {limit} bytes.",
    }
    request_id = request_id_var.get()
    if request_id:
        problem["requestId"] = request_id
    body = json.dumps(problem).encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 431,
        "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


def install_header_limit(app: Litestar, max_header_bytes: int) -> None:
    app.asgi_handler = HeaderLimitMiddleware(app.asgi_handler, max_header_bytes)
