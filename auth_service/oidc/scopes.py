"""The OpenID Connect scopes: they ask for claims about the user, not for access to a resource.

No resource server owns them, so they never decide a token's audience (``tokens/audience.py``):
they are granted to any client of a person's login (authorization code, device, password), shown
on the consent page like the others, carried in the access token's ``scope`` (so ``/userinfo``
knows which claims it may answer) and in the session's grant.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["IDENTITY_SCOPES", "OPENID", "split_identity"]

OPENID = "openid"
IDENTITY_SCOPES = frozenset({OPENID, "profile", "email"})


def split_identity(scopes: Iterable[str]) -> tuple[list[str], list[str]]:
    """``(identity, resource)`` scopes, each sorted."""
    identity = sorted({s for s in scopes if s in IDENTITY_SCOPES})
    resource = sorted({s for s in scopes if s not in IDENTITY_SCOPES})
    return identity, resource
