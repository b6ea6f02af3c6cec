"""What revocation (RFC 7009) and introspection (RFC 7662) share: the authenticated client and
the token it presents.

Access tokens are JWTs (three dot-separated segments); refresh tokens are opaque, so the token's
shape says which it is and ``token_type_hint`` is not needed. Any string is a token here: whatever
does not verify is simply no token of ours (``None``), never an error.

Who may see a token (RFC 7662 section 4 leaves it to the server): an access token is shown to the
client it was issued to and to the resource server it is meant for (the client registered with
``resource_server`` set to one of the token's audiences); a refresh token only to its own client.
"""

from __future__ import annotations

import base64
import binascii

import msgspec

from auth_service.clients.authentication import ClientAuthenticator
from auth_service.clients.repository import ClientRecord
from auth_service.tokens.errors import OAuthError, invalid_request
from shared.auth.claims import AccessClaims
from shared.auth.verifier import InvalidToken, TokenVerifier

__all__ = ["PresentedTokens", "key_id", "looks_like_jwt", "meant_for", "same_client"]


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def key_id(token: str) -> str | None:
    """The ``kid`` of a token ``access_claims`` accepted (its header verified with that key)."""
    header = token.partition(".")[0]
    try:
        decoded = msgspec.json.decode(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (binascii.Error, ValueError, msgspec.DecodeError):
        return None
    kid = decoded.get("kid") if isinstance(decoded, dict) else None
    return kid if isinstance(kid, str) else None


class PresentedTokens:
    """Authenticates the client, reads the ``token`` parameter, verifies an access token."""

    __slots__ = ("_clients", "_verifier")

    def __init__(self, clients: ClientAuthenticator, verifier: TokenVerifier) -> None:
        """``verifier`` checks signature and claims only (no revocations): the callers ask the
        revocation table themselves, which is the truth (``RevocationRepository.is_revoked``)."""
        self._clients = clients
        self._verifier = verifier

    async def client_and_token(
        self, form: dict[str, str], authorization: str | None, *, confidential_only: bool
    ) -> tuple[ClientRecord, str]:
        client = await self._clients.authenticate(authorization, form, confidential_only=confidential_only)
        token = form.get("token")
        if token is None:
            raise invalid_request("The token parameter is missing.")
        return client, token

    async def access_claims(self, token: str) -> AccessClaims | None:
        """The claims of a token we issued, for any of our audiences (the caller checks whom for)."""
        try:
            return await self._verifier.verify(token)
        except InvalidToken:
            return None


def meant_for(claims: AccessClaims, client: ClientRecord) -> bool:
    """Whether ``client`` may learn what this access token says: it is its own, or for its resource."""
    if claims.client_id == client.client_id:
        return True
    audiences = [claims.aud] if isinstance(claims.aud, str) else claims.aud
    return client.resource_server is not None and client.resource_server in audiences


def same_client(owner: str, client: ClientRecord) -> None:
    if owner != client.client_id:
        raise OAuthError("unauthorized_client", "This token was not issued to this client.")
