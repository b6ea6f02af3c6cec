"""Which resource servers a token is for (RFC 8707) and which scopes it carries.

The rules, in order (``resource`` may repeat; the form joins its values with spaces):

1. ``resource`` given: each must be registered and one the client may ask for, else
   ``invalid_target``. The audience is exactly those.
2. else ``scope`` given with resource scopes: the owners of those (a scope nobody owns is
   ``invalid_scope``); an owner the client may not ask for is ``invalid_target``.
3. else ``scope`` given with identity scopes only (``openid profile email``): the userinfo
   audience, ``{issuer}/userinfo``, which opens ``/userinfo`` and nothing else.
4. else the client's ``default_resource`` (without one, its only resource
   when it has exactly one); none is ``invalid_target``.

Identity scopes (``oidc/scopes.py``) are owned by no resource server: they never choose the
audience, and whichever it is they ride along in the token's scopes (and the session's grant, so
refreshes keep them). The token's scopes are the grant narrowed to what the audience owns plus
the grant's identity scopes, or exactly ``scope`` when given (a requested resource scope outside
the grant or the audience is ``invalid_scope``). ``aud`` is the one identifier, or the sorted
list; the lifetime is the shortest of the audience's. Everything is read from the in-memory
``ResourceRegistry``: no database round trip.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from auth_service.clients.repository import ClientRecord
from auth_service.oidc.scopes import IDENTITY_SCOPES, split_identity
from auth_service.resources.registry import ResourceRegistry
from auth_service.tokens.errors import OAuthError

__all__ = ["USERINFO_PATH", "Audience", "AudienceResolver", "invalid_target", "parse_resources"]

USERINFO_PATH = "/userinfo"
"""The userinfo audience is the issuer followed by this path."""


def invalid_target(description: str) -> OAuthError:
    """RFC 8707 section 2: the resource is unknown, not allowed, or none could be chosen."""
    return OAuthError("invalid_target", description)


def parse_resources(value: str | None) -> list[str] | None:
    """``None`` when absent; the sorted, de-duplicated identifiers otherwise."""
    if value is None:
        return None
    return sorted(set(value.split()))


class Audience(msgspec.Struct, frozen=True):
    resources: list[str]
    """Sorted identifiers."""
    scopes: frozenset[str]
    """Every scope these resource servers own."""
    ttl: int

    @property
    def aud(self) -> str | list[str]:
        """RFC 9068 / RFC 7519: a string for one audience, an array for several."""
        return self.resources[0] if len(self.resources) == 1 else list(self.resources)

    def token_scopes(self, grant: Iterable[str], requested: list[str] | None) -> list[str]:
        """``requested`` (each resource scope within the grant and owned here), or the grant
        narrowed to this audience; identity scopes are kept whatever the audience (a requested
        one needs no place in ``grant``: the caller bounded those by the person's login)."""
        granted = set(grant)
        if requested is None:
            return sorted(granted & (self.scopes | IDENTITY_SCOPES))
        beyond = [
            s for s in requested if s not in IDENTITY_SCOPES and (s not in granted or s not in self.scopes)
        ]
        if beyond:
            raise OAuthError(
                "invalid_scope", f"Not grantable for {' '.join(self.resources)}: {' '.join(beyond)}."
            )
        return requested


class AudienceResolver:
    __slots__ = ("_default_ttl", "_registry", "userinfo")

    def __init__(self, registry: ResourceRegistry, *, default_ttl: int, issuer: str) -> None:
        """``default_ttl``: ``AUTH_ACCESS_TOKEN_TTL``, for resource servers without their own (and
        the userinfo audience); ``issuer`` names the userinfo audience."""
        self._registry = registry
        self._default_ttl = default_ttl
        self.userinfo = issuer + USERINFO_PATH
        """The audience of a token asking for identity scopes only."""

    def resolve(
        self,
        client: ClientRecord,
        resources: list[str] | None,
        requested: list[str] | None,
    ) -> Audience:
        """Rules 1 to 4; without a default resource, a client allowed only one gets that one."""
        if resources is not None:
            return self.named(client, resources)
        if requested is not None:
            owners = self.owners(requested)
            return self.named(client, sorted(owners)) if owners else self._userinfo()
        if client.default_resource is not None:
            return self.named(client, [client.default_resource])
        if len(client.resources) == 1:
            return self.named(client, list(client.resources))
        raise invalid_target("Name a resource: this client has no default resource.")

    def named(self, client: ClientRecord, resources: list[str]) -> Audience:
        """Rule 1: every one registered and allowed to ``client``."""
        unknown = [r for r in resources if self._registry.get(r) is None]
        if unknown:
            raise invalid_target(f"Unknown resource: {' '.join(unknown)}.")
        refused = [r for r in resources if r not in client.resources]
        if refused:
            raise invalid_target(f"This client may not ask for: {' '.join(refused)}.")
        return self.of(resources)

    def of(self, resources: Iterable[str]) -> Audience:
        """The audience of registered ``resources`` (a refresh token's family's); none at all, or
        the userinfo audience alone, is the userinfo audience."""
        wanted = sorted(set(resources))
        if not wanted or wanted == [self.userinfo]:
            return self._userinfo()
        found = [r for r in (self._registry.get(i) for i in wanted) if r is not None]
        if not found:
            raise invalid_target("None of this token's resources is registered any more.")
        return Audience(
            resources=[r.identifier for r in found],
            scopes=frozenset().union(*(r.scopes for r in found)),
            ttl=min(r.access_token_ttl or self._default_ttl for r in found),
        )

    def owners(self, scopes: Iterable[str]) -> set[str]:
        """The resource servers owning ``scopes``; a scope nobody owns is ``invalid_scope`` (identity
        scopes are nobody's and choose nothing)."""
        owners = {s: self._registry.owner_of(s) for s in split_identity(scopes)[1]}
        unowned = sorted(s for s, owner in owners.items() if owner is None)
        if unowned:
            raise OAuthError("invalid_scope", f"No resource server owns: {' '.join(unowned)}.")
        return {owner for owner in owners.values() if owner is not None}

    def allowed(self, client: ClientRecord) -> list[str]:
        """The registered resources ``client`` may ask for, and the userinfo audience (any client
        of a person's login may get it, so a session for it may be refreshed)."""
        return [*(r for r in client.resources if self._registry.get(r) is not None), self.userinfo]

    def _userinfo(self) -> Audience:
        return Audience(resources=[self.userinfo], scopes=frozenset(), ttl=self._default_ttl)

    def longest_ttl(self) -> int:
        """An upper bound of any token's lifetime, before its audience is known."""
        return self._registry.longest_ttl(self._default_ttl)
