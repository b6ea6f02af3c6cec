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
_PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]+$"  # no control characters (they would reach ID tokens and pages)
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=_PRINTABLE, description="Full name")]
NamePart = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=_PRINTABLE)]
Locale = Annotated[
    str,
    msgspec.Meta(
        max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="A BCP 47 tag (pt-BR)"
    ),
]


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
    email_verified: bool
    name: str | None
    given_name: str | None
    family_name: str | None
    locale: str | None


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
    email_verified: bool = False
    name: Name | None = None
    given_name: NamePart | None = None
    family_name: NamePart | None = None
    locale: Locale | None = None


class Registration(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email
    password: Password


class UserUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Only the fields given change; ``roles`` replaces the whole list; ``null`` clears a profile
    claim (``name``, ``given_name``, ``family_name``, ``locale``)."""

    email: Email | None = None
    status: Status | None = None
    roles: list[RoleName] | None = None
    email_verified: bool | None = None
    """A changed ``email`` is unverified unless this says otherwise."""
    name: Name | msgspec.UnsetType | None = msgspec.UNSET
    given_name: NamePart | msgspec.UnsetType | None = msgspec.UNSET
    family_name: NamePart | msgspec.UnsetType | None = msgspec.UNSET
    locale: Locale | msgspec.UnsetType | None = msgspec.UNSET


class PasswordReset(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    password: Password


class PasswordChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password
