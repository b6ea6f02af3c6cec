"""A person's profile claims (OpenID Connect Core section 5.1) as a create or an update sets them.

``email_verified`` is an admin's statement (issue 14 adds verification mails): self-registration
never sets it, and a changed email is unverified again unless the same update says otherwise, so a
client never reads an old verification as one of the new address.
"""

from __future__ import annotations

import msgspec

from auth_service.users.repository import UserProfile, UserRecord
from auth_service.users.schemas import UserCreate, UserUpdate

__all__ = ["PROFILE_FIELDS", "new_profile", "updated_profile"]

PROFILE_FIELDS = ("email_verified", "name", "given_name", "family_name", "locale")


def new_profile(data: UserCreate) -> UserProfile:
    return UserProfile(**{field: getattr(data, field) for field in PROFILE_FIELDS})


def updated_profile(before: UserRecord, data: UserUpdate, email: str | None) -> tuple[UserProfile, list[str]]:
    """The profile as ``data`` leaves it (``email``: the new normalised email, if any) and the names
    of the members that changed (what the audit records: names, not values)."""
    changes: dict[str, object] = {}
    for field in PROFILE_FIELDS[1:]:
        value = getattr(data, field)
        if value is not msgspec.UNSET:
            changes[field] = value
    if data.email_verified is not None:
        changes["email_verified"] = data.email_verified
    elif email is not None and email != before.email:
        changes["email_verified"] = False
    profile = msgspec.structs.replace(before.profile, **changes)
    changed = [field for field in PROFILE_FIELDS if getattr(profile, field) != getattr(before, field)]
    return profile, changed
