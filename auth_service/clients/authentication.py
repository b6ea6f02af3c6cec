"""OAuth client authentication at the token, revocation and introspection endpoints.

Confidential clients authenticate with HTTP Basic (``client_secret_basic``: id and secret each
form-urlencoded before base64, RFC 6749 section 2.3.1) or with ``client_id`` and ``client_secret``
in the body (``client_secret_post``) — never both at once, and only with the method they registered
(RFC 7591 section 2: ``token_endpoint_auth_method``). Public clients (``none``: no secret, like the
first-party app) only identify themselves with ``client_id``. Every failure is ``invalid_client``;
only a caller that knows the secret learns that it used the wrong method, so nobody else learns
whether the client exists.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from auth_service.clients.directory import ClientDirectory
from auth_service.clients.repository import ClientRecord
from auth_service.random_secrets import digest, digests_match
from auth_service.tokens.errors import InvalidClient, OAuthError, invalid_request

__all__ = ["ClientAuthenticator"]

_UNKNOWN_CLIENT_DIGEST = digest("no such client")


def _invalid_client(description: str = "Client authentication failed.") -> OAuthError:
    return InvalidClient(description)


def _basic_credentials(authorization: str) -> tuple[str, str]:
    _, _, encoded = authorization.strip().partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client("The Basic credentials are not valid base64 of id:secret.") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _invalid_client("The Basic credentials are not valid base64 of id:secret.")
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if "\x00" in client_id or "\x00" in secret:  # never in an identifier or secret of ours
        raise _invalid_client("The Basic credentials contain a NUL character.")
    return client_id, secret


class ClientAuthenticator:
    __slots__ = ("_clients",)

    def __init__(self, clients: ClientDirectory) -> None:
        self._clients = clients

    async def authenticate(
        self,
        authorization: str | None,
        form: dict[str, str],
        *,
        confidential_only: bool = False,
    ) -> ClientRecord:
        secret: str | None
        if authorization and authorization.lstrip().lower().startswith("basic "):
            if "client_secret" in form:
                raise invalid_request("Use one client authentication method, not Basic and client_secret.")
            client_id, secret = _basic_credentials(authorization)
            if form.get("client_id", client_id) != client_id:
                raise invalid_request("client_id in the body differs from the authenticated client.")
            method = "client_secret_basic"
        else:
            client_id = form.get("client_id", "")
            secret = form.get("client_secret")
            method = "none" if secret is None else "client_secret_post"
        if not client_id:
            raise _invalid_client("Client authentication is required.")
        client = await self._clients.get(client_id)
        if client is None:
            digests_match(secret or "", _UNKNOWN_CLIENT_DIGEST)  # same work as for a known client
            raise _invalid_client()
        if client.secret_digest is not None:
            if secret is None or not digests_match(secret, client.secret_digest):
                raise _invalid_client()
            if method != client.token_endpoint_auth_method:
                raise _invalid_client(
                    f"This client is registered to authenticate with {client.token_endpoint_auth_method}."
                )
        elif secret is not None:
            raise _invalid_client()
        elif confidential_only:
            raise _invalid_client("This endpoint requires a confidential client's credentials.")
        return client
