"""The users API's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

__all__ = [
    "Family",
    "PasswordChange",
    "PasswordReset",
    "Registration",
    "User",
    "UserCreate",
    "UserPage",
    "UserUpdate",
]

Email = Annotated[
    str, msgspec.Meta(min_length=3, max_length=320, description="Email address (the login name)")
]
# Long enough for any policy; the policy's own maximum is checked before hashing.
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
RoleName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_.-]{0,62}$")]
Status = Literal["active", "disabled"]


class User(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    status: Status
    roles: list[str]
    scopes: list[str]
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    password_changed_at: datetime


# One login (a refresh-token family) as the admin API shows it. The tokens context keeps its own
# record; the API's shape is declared here so a column added there never leaks into this body.
# (No docstring: it would become the schema's description in the OpenAPI document.)
class Family(msgspec.Struct, frozen=True):
    id: UUID
    user_id: UUID
    client_id: str
    scope: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    source_ip: str | None


class UserPage(msgspec.Struct, frozen=True):
    items: list[User]
    next_cursor: str | None = None


class UserCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email
    password: Password
    roles: list[RoleName] = []


class Registration(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email
    password: Password


class UserUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Only the fields given change; ``roles`` replaces the whole list."""

    email: Email | None = None
    status: Status | None = None
    roles: list[RoleName] | None = None


class PasswordReset(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    password: Password


class PasswordChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password
