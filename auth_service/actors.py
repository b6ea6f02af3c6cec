"""Who is calling, for the audit trail: the bearer token's subject and the source address."""

from __future__ import annotations

from typing import Any

from litestar import Request

from auth_service.audit.service import Actor
from auth_service.throttling.client_address import ClientAddresses
from shared.auth.litestar import current_claims

__all__ = ["client_ip", "request_actor"]


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    """The client's address (the peer, or what a trusted proxy forwarded), ``None`` when it is not an
    IP address (a test transport may name itself otherwise); throttling and audit use the same one."""
    addresses: ClientAddresses = request.app.state.client_addresses
    return addresses.of(request)


def request_actor(request: Request[Any, Any, Any]) -> Actor:
    return Actor(id=current_claims(request).sub, source_ip=client_ip(request))
