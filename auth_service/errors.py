"""The domain errors of the non-OAuth API: what went wrong, as class data, with no HTTP in sight.

Services and repositories raise these; ``shared/http/problems.py`` turns each into RFC 9457
problem+json (``type`` is the slug, ``title`` the status's reason phrase). One class per thing that
can go wrong, so a caller catches what it means (``EmailTaken``) rather than matching a slug.
"""

from __future__ import annotations

from typing import ClassVar

from shared.errors import DomainError, field_problem

__all__ = [
    "BeyondOwnPowers",
    "ClientExists",
    "ClientNotFound",
    "Conflict",
    "EmailTaken",
    "Forbidden",
    "InvalidField",
    "LastAdmin",
    "ManagedResource",
    "NotAUser",
    "NotFound",
    "PublicClient",
    "RegistrationDisabled",
    "ResourceServerExists",
    "ResourceServerNotFound",
    "RoleAssignmentNotFound",
    "RoleExists",
    "RoleInUse",
    "RoleNotFound",
    "ScopeInUse",
    "ScopeTaken",
    "SessionNotFound",
    "UserNotFound",
    "WeakPassword",
    "WrongPassword",
]


class NotFound(DomainError):
    """404; ``subject`` names what was looked for in the detail."""

    status = 404
    slug = "not-found"
    subject: ClassVar[str] = "resource"

    def __init__(self) -> None:
        super().__init__(f"No {self.subject} with this identifier.")


class UserNotFound(NotFound):
    subject = "user"


class RoleNotFound(NotFound):
    subject = "role"


class RoleAssignmentNotFound(NotFound):
    subject = "role assignment"


class ClientNotFound(NotFound):
    subject = "client"


class SessionNotFound(NotFound):
    subject = "session"


class ResourceServerNotFound(NotFound):
    subject = "resource server"


class Conflict(DomainError):
    """409: the request contradicts what is stored."""

    status = 409
    slug = "conflict"


class EmailTaken(Conflict):
    slug = "email-taken"
    detail = "An account with this email already exists."


class LastAdmin(Conflict):
    """Nobody may lock the organisation out of its own identity provider."""

    slug = "last-admin"
    detail = "After this change no active account could administer everything."


class RoleExists(Conflict):
    slug = "role-exists"

    def __init__(self, name: str) -> None:
        super().__init__(f"A role named {name} already exists.")


class RoleInUse(Conflict):
    slug = "role-in-use"
    detail = "Users hold this role; unassign it first."


class ClientExists(Conflict):
    slug = "client-exists"

    def __init__(self, client_id: str) -> None:
        super().__init__(f"A client {client_id} already exists.")


class ResourceServerExists(Conflict):
    slug = "resource-server-exists"

    def __init__(self, identifier: str) -> None:
        super().__init__(f"A resource server {identifier} already exists.")


class ScopeTaken(Conflict):
    """A scope belongs to one resource server only, so a token's audience follows from its scopes."""

    slug = "scope-taken"

    def __init__(self, scopes: list[str] | None = None) -> None:
        named = f": {' '.join(scopes)}" if scopes else ""
        super().__init__(f"Another resource server already owns these scopes{named}.")


class ScopeInUse(Conflict):
    slug = "scope-in-use"

    def __init__(self, scopes: list[str]) -> None:
        super().__init__(f"Roles or clients hold these scopes; remove them there first: {' '.join(scopes)}.")


class ManagedResource(Conflict):
    """The auth service's own API: its scopes are the ones its code enforces."""

    slug = "managed-resource"
    detail = "This resource server is managed by the auth service itself and cannot be changed."


class PublicClient(Conflict):
    slug = "public-client"
    detail = "A public client has no secret."


class Forbidden(DomainError):
    """403: understood, and refused."""

    status = 403
    slug = "forbidden"


class RegistrationDisabled(Forbidden):
    slug = "registration-disabled"
    detail = "Self-registration is disabled on this server."


class NotAUser(Forbidden):
    slug = "not-a-user"
    detail = "This token speaks for a client, not a user."


class WrongPassword(Forbidden):
    slug = "wrong-password"
    detail = "The current password is not correct."


class InvalidField(DomainError):
    """422: the request is well-formed but a field's value is not acceptable (named in ``errors``)."""

    status = 422
    slug = "invalid-field"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, errors=[field_problem(field, message)])


class WeakPassword(InvalidField):
    slug = "weak-password"


class BeyondOwnPowers(Forbidden):
    """403: an actor tried to grant a scope or resource it does not hold itself (self-escalation)."""

    slug = "beyond-own-powers"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, errors=[field_problem(field, message)])
