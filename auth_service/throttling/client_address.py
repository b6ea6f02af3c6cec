"""Which address a request comes from: the peer, or what trusted proxies say in ``X-Forwarded-For``.

The header is read only when the peer is one of ``AUTH_TRUSTED_PROXIES``, and then right to left,
skipping trusted hops: the first address not ours is the client (everything left of it was
written by the client and proves nothing). Without trusted proxies the header is ignored, so a
client cannot choose the address it is throttled and audited under.

Limits per address count an IPv6 client by its /64: one subscriber usually holds a whole /64, and
counting single addresses would give an attacker 2^64 fresh ones.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from typing import Any

from litestar import Request

__all__ = ["ClientAddresses", "address_bucket"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN = "unknown"


@functools.lru_cache(maxsize=4096)  # parsed on every token request; a few clients send most of them
def _parse(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class ClientAddresses:
    __slots__ = ("_trusted",)

    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self._trusted = tuple(ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies)

    def _is_trusted(self, address: IPAddress) -> bool:
        return any(address in network for network in self._trusted)

    def of(self, request: Request[Any, Any, Any]) -> str | None:
        """The client's address, or ``None`` when the peer is not an IP (a test transport, a socket)."""
        peer = _parse(request.client.host) if request.client else None
        if peer is None or not self._trusted or not self._is_trusted(peer):
            return str(peer) if peer is not None else None
        hops = [hop for header in request.headers.getall("x-forwarded-for", []) for hop in header.split(",")]
        client = peer
        for hop in reversed(hops):
            address = _parse(hop)
            if address is None:
                break  # a garbled hop: stop at the last address a trusted proxy vouched for
            client = address
            if not self._is_trusted(address):
                break
        return str(client)


def address_bucket(address: str | None) -> str:
    """What a per-address limit counts: the IPv4 address, the IPv6 /64, or one shared ``unknown``."""
    parsed = _parse(address) if address else None
    if parsed is None:
        return UNKNOWN
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)
