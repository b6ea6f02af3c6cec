"""Kubernetes NetworkPolicy semantics, for the subset our manifests use, to test who reaches whom.

A connection is allowed when the source's egress and the destination's ingress both allow it.
A pod no policy selects (for a direction) is unrestricted in that direction; a pod some policy
selects is allowed only what one of those policies' rules allows.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Endpoint", "allowed"]


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace, labels, named ports) or, with ``ip`` set, an address outside the cluster."""

    namespace: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    namespace_labels: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    ip: str = ""


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not ok:
            return False
    return True


def _peer_matches(peer: dict[str, Any], policy_namespace: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        if not other.ip:
            return False
        address = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        inside = address in ipaddress.ip_network(block["cidr"])
        return inside and not any(address in ipaddress.ip_network(c) for c in block.get("except", []))
    if other.ip:
        return False
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], other.namespace_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or _selects(peer["podSelector"], other.labels)


def _port_matches(rule: dict[str, Any], port: int, protocol: str, target: Endpoint) -> bool:
    if not rule.get("ports"):
        return True
    for entry in rule["ports"]:
        wanted = entry.get("port")
        number = target.ports.get(wanted) if isinstance(wanted, str) else wanted
        if entry.get("protocol", "TCP") == protocol and (wanted is None or number == port):
            return True
    return False


def _direction_allows(
    policies: list[dict[str, Any]], direction: str, subject: Endpoint, other: Endpoint, port: int,
    protocol: str, target: Endpoint,
) -> bool:  # fmt: skip
    if subject.ip:  # outside the cluster: no policy of ours applies
        return True
    applicable = [
        p for p in policies
        if p["metadata"]["namespace"] == subject.namespace
        and direction in p["spec"].get("policyTypes", ["Ingress"])
        and _selects(p["spec"]["podSelector"], subject.labels)
    ]  # fmt: skip
    if not applicable:
        return True
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in applicable:
        for rule in policy["spec"].get(key, []):
            peers = rule.get(peers_key)
            peer_ok = not peers or any(
                _peer_matches(p, policy["metadata"]["namespace"], other) for p in peers
            )
            if peer_ok and _port_matches(rule, port, protocol, target):
                return True
    return False


def allowed(
    policies: list[dict[str, Any]], source: Endpoint, destination: Endpoint, port: int, protocol: str = "TCP"
) -> bool:
    return _direction_allows(
        policies, "Egress", source, destination, port, protocol, destination
    ) and _direction_allows(policies, "Ingress", destination, source, port, protocol, destination)
