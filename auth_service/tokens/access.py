"""RFC 9068 access tokens: the claims, signed by the keyring's active key.

``aud`` and the lifetime come from the token's audience (``tokens/audience.py``); claims with
nothing to say are left out (no ``"roles": []``: RFC 9068 validators read an empty array as a
claim present and wrong). A person's token says how the person logged in (``auth_time``, ``amr``,
``acr``: RFC 9068 section 2.2.1), so a resource server can require a stronger or more recent login
(RFC 9470, ``shared/auth/step_up.py``); a client's token for itself has none of them.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from auth_service.keys.keyring import Keyring
from auth_service.tokens.audience import Audience

if TYPE_CHECKING:
    from auth_service.users.repository import UserRecord

__all__ = ["AccessToken", "AccessTokenIssuer", "IssuedAfter", "LoginAssurance"]


class AccessToken(msgspec.Struct, frozen=True):
    token: str
    jti: str
    exp: int
    expires_in: int


class LoginAssurance(msgspec.Struct, frozen=True):
    """How the person behind a token logged in; a refreshed token keeps its first login's."""

    auth_time: int
    """When (Unix seconds)."""
    amr: list[str]
    """RFC 8176 method values (``auth_service/oidc/assurance.py``)."""
    acr: str

    def claims(self) -> dict[str, Any]:
        return {"auth_time": self.auth_time, "amr": self.amr, "acr": self.acr}


IssuedAfter = Callable[[str, str, list[str]], float | None]
"""The latest subject-, client- or role-wide revocation a token of (sub, client_id, roles) falls under."""


class AccessTokenIssuer:
    __slots__ = ("_issued_after", "_issuer", "_keyring")

    def __init__(self, keyring: Keyring, *, issuer: str, issued_after: IssuedAfter | None = None) -> None:
        """``issued_after`` (the auth service's own revocation feed): a token issued in the same
        second as a revocation that reaches it gets the next second as ``iat``, since revocations
        refuse ``iat <= at`` and ``iat`` is whole seconds. Without it, such a token would be
        refused for up to a second, e.g. the first login after an admin reset a password."""
        self._keyring = keyring
        self._issuer = issuer
        self._issued_after = issued_after

    def ensure_ready(self) -> None:
        """Raise ``NoSigningKey`` before a grant changes state it could not answer for."""
        _ = self._keyring.signer

    def new_jti(self, ttl: int) -> tuple[str, int]:
        """A fresh ``jti`` and the ``exp`` a token living ``ttl`` seconds from now gets (known before
        signing, so the refresh-token row can record them in the same statement that creates it)."""
        return secrets.token_urlsafe(16), int(time.time()) + ttl

    def for_person(
        self,
        user: UserRecord,
        client_id: str,
        audience: Audience,
        scopes: list[str],
        *,
        sid: str,
        login: LoginAssurance,
    ) -> AccessToken:
        """A person's token for ``audience``, in the session ``sid`` (its refresh-token family)."""
        jti, exp = self.new_jti(audience.ttl)
        return self.issue(
            sub=str(user.id), client_id=client_id, aud=audience.aud, scopes=scopes, roles=user.roles,
            jti=jti, exp=exp, ttl=audience.ttl, email=user.email, sid=sid, login=login,
        )  # fmt: skip

    def issue(
        self,
        *,
        sub: str,
        client_id: str,
        aud: str | list[str],
        scopes: list[str],
        roles: list[str],
        jti: str,
        exp: int,
        ttl: int,
        email: str | None = None,
        sid: str | None = None,
        login: LoginAssurance | None = None,
    ) -> AccessToken:
        """``ttl``: the lifetime ``exp`` was computed with (``iat`` = ``exp - ttl``). ``login``: how
        the person logged in (``None``: no person did, or a session older than that record)."""
        now = exp - ttl
        if self._issued_after is not None:
            bound = self._issued_after(sub, client_id, roles)
            if bound is not None and now <= bound:
                shift = int(bound) + 1 - now
                now, exp = now + shift, exp + shift
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "sub": sub,
            "aud": aud,
            "exp": exp,
            "iat": now,
            "nbf": now,
            "jti": jti,
            "client_id": client_id,
            "scope": " ".join(scopes),
        }
        if roles:
            claims["roles"] = roles
        if email is not None:
            claims["email"] = email
        if sid is not None:
            claims["sid"] = sid
        if login is not None:
            claims.update(login.claims())
        return AccessToken(token=self._keyring.signer.sign(claims), jti=jti, exp=exp, expires_in=ttl)
