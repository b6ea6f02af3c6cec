"""Who is calling, for throttling and the audit trail: the bearer token's subject and the address.

Built once by the wiring over the configured trusted proxies and handed to the controllers that
need it, so no handler looks anything up per request.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from auth_service.audit.service import Actor
from auth_service.throttling.client_address import ClientAddresses
from shared.auth.litestar import current_claims

__all__ = ["RequestActors"]


class RequestActors:
    __slots__ = ("_addresses",)

    def __init__(self, addresses: ClientAddresses) -> None:
        self._addresses = addresses

    def client_ip(self, request: Request[Any, Any, Any]) -> str | None:
        """The client's address (the peer, or what a trusted proxy forwarded), ``None`` when it is
        not an IP address (a test transport may name itself otherwise); throttling and audit use
        the same one."""
        return self._addresses.of(request)

    def of(self, request: Request[Any, Any, Any]) -> Actor:
        """The bearer token's subject at the client's address (for routes behind bearer auth)."""
        return Actor(id=current_claims(request).sub, source_ip=self._addresses.of(request))
