"""The roles API's bodies: a role is a name, the OAuth scopes it grants, and whether whoever holds
it must log in with a second factor (``requires_mfa``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

__all__ = ["Role", "RoleCreate", "RoleUpdate"]

RoleName = Annotated[
    str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_.-]{0,62}$", description="Lower-case role name")
]
Scope = Annotated[str, msgspec.Meta(pattern=r"^[\x21\x23-\x5B\x5D-\x7E]{1,100}$")]
Description = Annotated[str, msgspec.Meta(max_length=500)]


class Role(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    description: str
    scopes: list[str]
    created_at: datetime
    updated_at: datetime
    requires_mfa: bool = False
    """Holders log in to the browser pages with a second factor, and set one up at their next
    login when they have none."""


class RoleCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: RoleName
    scopes: list[Scope]
    description: Description = ""
    requires_mfa: bool = False


class RoleUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Only the fields given change; ``name`` renames the role (assignments follow)."""

    name: RoleName | None = None
    scopes: list[Scope] | None = None
    description: Description | None = None
    requires_mfa: bool | None = None
