"""The roles API's bodies: a role is a name and the OAuth scopes it grants."""

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


class RoleCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: RoleName
    scopes: list[Scope]
    description: Description = ""


class RoleUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Only the fields given change; ``name`` renames the role (assignments follow)."""

    name: RoleName | None = None
    scopes: list[Scope] | None = None
    description: Description | None = None
