"""Who is calling, for the audit trail: the bearer token's subject and the source address."""

from __future__ import annotations

import ipaddress
from typing import Any

from litestar import Request

from auth_service.audit.service import Actor
from shared.auth.litestar import current_claims

__all__ = ["client_ip", "request_actor"]


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    """The peer address when it is an IP address (a test transport may name itself otherwise)."""
    host = request.client.host if request.client else None
    if host is None:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def request_actor(request: Request[Any, Any, Any]) -> Actor:
    return Actor(id=current_claims(request).sub, source_ip=client_ip(request))
