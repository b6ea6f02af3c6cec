"""What a person's browser login issues, for the authorization code and device grants.

The login itself happened elsewhere (the hosted login page, behind a browser session); here it is
turned into tokens on the caller's connection, inside the caller's transaction (the code or device
authorization is claimed in the same one, so a failure leaves it unclaimed). The user is read
again: an account disabled since is ``invalid_grant``, and the grant narrows to the resource
scopes the user still has (identity scopes are about the user, they need no role). The session is
a refresh-token family as for the password grant, tied to the browser session that logged in, so
ending that session revokes it. The ID token's ``sid`` is the browser session (Back-Channel
Logout's meaning); the access token's ``sid`` stays the family, so one app's logout revokes only
its own tokens. The access token carries the login's ``auth_time``, ``amr`` and ``acr`` as the ID
token does, and the family keeps them for every token refreshed from it.
"""

from __future__ import annotations

import uuid
from uuid import UUID

import msgspec

from auth_service.audit.service import Actor, AuditTrail
from auth_service.clients.repository import ClientRecord
from auth_service.oidc.id_tokens import IdTokenIssuer
from auth_service.oidc.scopes import OPENID, split_identity
from auth_service.random_secrets import digest, new_secret
from auth_service.settings import TokenSettings
from auth_service.tokens.access import AccessTokenIssuer, LoginAssurance
from auth_service.tokens.audience import AudienceResolver
from auth_service.tokens.errors import invalid_grant
from auth_service.tokens.families import FamilyRepository
from auth_service.tokens.redemption import NewFamily
from auth_service.tokens.responses import BEARER, TokenResponse
from auth_service.tokens.scopes import grant_scopes
from auth_service.users.repository import UserRecord, UserRepository
from shared.db.pool import Connection

__all__ = ["IssuedLogin", "LoginGrant", "LoginTokens", "MintedLogin", "login_event", "person_grant"]


def person_grant(requested: list[str] | None, *allowed: list[str] | set[str]) -> list[str]:
    """What a person's login may grant: the identity scopes asked for (they need no role and no
    registration on the client) plus ``grant_scopes`` of the resource scopes (``invalid_scope``
    beyond ``allowed``). No ``scope`` at all: the intersection of ``allowed``, no identity scope."""
    if requested is None:
        return grant_scopes(None, *allowed)
    identity, resource = split_identity(requested)
    return sorted([*identity, *grant_scopes(resource, *allowed)])


class LoginGrant(msgspec.Struct, frozen=True):
    """What a login allowed a client: the grant (identity + resource scopes) and its audience."""

    user_id: UUID
    scopes: list[str]
    resources: list[str]
    """``Audience.resources`` as resolved when the login was asked for."""
    browser_session_id: UUID | None
    auth_time: int
    amr: list[str]
    acr: str
    nonce: str | None = None


class IssuedLogin(msgspec.Struct, frozen=True):
    response: TokenResponse
    family_id: UUID
    """The refresh-token family started (a second use of the code revokes it)."""


class MintedLogin(msgspec.Struct, frozen=True):
    """Signed tokens, not yet sent: they are valid once ``family`` is written."""

    response: TokenResponse
    family: NewFamily


class LoginTokens:
    __slots__ = ("_audiences", "_audit", "_families", "_id_tokens", "_issuer", "_settings", "_users")

    def __init__(
        self,
        settings: TokenSettings,
        issuer: AccessTokenIssuer,
        audiences: AudienceResolver,
        audit: AuditTrail,
        id_tokens: IdTokenIssuer,
    ) -> None:
        self._settings = settings
        self._issuer = issuer
        self._audiences = audiences
        self._audit = audit
        self._id_tokens = id_tokens
        self._users = UserRepository()
        self._families = FamilyRepository()

    async def issue(
        self, conn: Connection, client: ClientRecord, grant: LoginGrant, actor: Actor
    ) -> IssuedLogin:
        """On ``conn`` (the caller's transaction): signs before it writes, so a missing signing key
        (``NoSigningKey``) changes nothing."""
        user = await self._users.by_id(conn, grant.user_id)
        minted = self.mint(client, grant, user, actor)
        family = minted.family
        await self._families.create(conn, **msgspec.structs.asdict(family))
        await self._audit.record(
            "login.tokens", actor, target_type="user", target_id=str(family.user_id),
            details=login_event(family), conn=conn,
        )  # fmt: skip
        return IssuedLogin(response=minted.response, family_id=family.family_id)

    def mint(
        self, client: ClientRecord, grant: LoginGrant, user: UserRecord | None, actor: Actor
    ) -> MintedLogin:
        """The tokens of ``grant`` for ``user`` as they are now (``invalid_grant`` once inactive):
        identity scopes as granted, resource scopes the person and the client still both hold."""
        if user is None or not user.active:
            raise invalid_grant("The account that logged in is no longer active.")
        identity, resource = split_identity(grant.scopes)
        allowed = set(user.scopes).intersection(client.scopes)
        granted = sorted([*identity, *(s for s in resource if s in allowed)])
        audience = self._audiences.of(grant.resources)
        scopes = audience.token_scopes(granted, None)
        family_id = uuid.uuid4()
        login = LoginAssurance(auth_time=grant.auth_time, amr=grant.amr, acr=grant.acr)
        access = self._issuer.for_person(
            user, client.client_id, audience, scopes, sid=str(family_id), login=login
        )
        refresh = new_secret()
        response = TokenResponse(
            access_token=access.token,
            token_type=BEARER,
            expires_in=access.expires_in,
            scope=TokenResponse.scope_of(scopes),
            refresh_token=refresh if "refresh_token" in client.grant_types else None,
            id_token=self._id_token(user, client, grant, granted, access.token),
        )
        family = NewFamily(
            family_id=family_id, user_id=user.id, client_id=client.client_id, scope=" ".join(granted),
            resources=audience.resources, family_ttl=self._settings.refresh_family_ttl,
            source_ip=actor.source_ip, token_digest=digest(refresh),
            token_ttl=self._settings.refresh_token_ttl,
            access_jti=access.jti, access_exp=access.exp, login=login,
            browser_session_id=grant.browser_session_id,
        )  # fmt: skip
        return MintedLogin(response, family)

    def _id_token(
        self, user: UserRecord, client: ClientRecord, grant: LoginGrant, granted: list[str], access: str
    ) -> str | None:
        """OpenID Connect Core section 3.1.3.3: an ID token when ``openid`` was granted."""
        if OPENID not in granted:
            return None
        return self._id_tokens.issue(
            user=user,
            client_id=client.client_id,
            scopes=granted,
            auth_time=grant.auth_time,
            amr=grant.amr,
            acr=grant.acr,
            sid=_text(grant.browser_session_id),
            nonce=grant.nonce,
            access_token=access,
        )


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def login_event(family: NewFamily) -> dict[str, str | None]:
    """The ``login.tokens`` audit event's details: the family, and the browser session it came from."""
    return {"session": str(family.family_id), "browser_session": _text(family.browser_session_id)}
