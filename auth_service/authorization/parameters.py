"""Validating an authorization request's parameters, in the order the answer depends on them.

First what decides where an answer may go (``trusted_reply``): exactly one ``client_id`` and one
``redirect_uri``, a known client, and a redirect URI registered for it (exact match, loopback
port excepted: ``clients/redirect_uris.py``). Anything wrong there is an error page. Then the
rest (``validate``), each refusal an ``AuthorizationError`` answered at the redirect URI: a
request object (not supported), ``response_type`` (``code`` only), the client's right to the
flow, PKCE (S256 only, RFC 9700 section 2.1.1: an absent method means ``plain`` and is refused),
``prompt``, ``max_age``, ``response_mode``, the scopes and the audience (RFC 8707, resolved now
so a bad ``resource`` fails before the person logs in).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

import msgspec

from auth_service.authorization.errors import AuthorizationError, UntrustedRequest
from auth_service.clients.redirect_uris import redirect_uri_registered
from auth_service.clients.repository import ClientRecord
from auth_service.oidc.scopes import split_identity
from auth_service.tokens.audience import AudienceResolver, parse_resources
from auth_service.tokens.errors import OAuthError
from auth_service.tokens.scopes import parse_scope

__all__ = ["AuthorizationParameters", "Query", "Reply", "bounded_query", "carried_query",
           "parse_carried", "trusted_reply", "validate"]  # fmt: skip

Query = Mapping[str, Sequence[str]]
"""Every parameter with all its values (a repeated one must be seen to be refused)."""

PROMPTS = frozenset({"none", "login", "consent"})
RESPONSE_MODES = frozenset({"query", "form_post"})
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_NONCE_CHARS = 512
MAX_HINT_CHARS = 320
MAX_AGE_LIMIT = 10 * 365 * 86400


def bounded_query(items: Iterable[tuple[str, Any]], max_params: int, max_chars: int) -> Query:
    """Every parameter with all its values; too many or too long is an error page."""
    query: dict[str, list[str]] = {}
    for count, (name, value) in enumerate(items, start=1):
        if count > max_params:
            raise UntrustedRequest("The authorization request has too many parameters.")
        if not isinstance(value, str) or len(value) > max_chars:
            raise UntrustedRequest("A parameter of the authorization request is too long.")
        query.setdefault(name, []).append(value)
    return query


def carried_query(query: Query) -> str:
    """The request as the login form carries it back (``AuthorizationService.carried``)."""
    return urlencode([(name, value) for name, values in query.items() for value in values])


def parse_carried(encoded: str, max_params: int, max_chars: int) -> Query:
    """``carried_query``'s string read back, bounded as at the authorization endpoint."""
    try:
        pairs = parse_qsl(encoded, keep_blank_values=True, max_num_fields=max_params)
    except ValueError:
        raise UntrustedRequest("The authorization request has too many parameters.") from None
    return bounded_query(pairs, max_params, max_chars)


class Reply(msgspec.Struct, frozen=True):
    """Where and how the answer goes back to the client, and the ``state`` it carries."""

    redirect_uri: str
    response_mode: str = "query"
    state: str | None = None


class AuthorizationParameters(msgspec.Struct, frozen=True, kw_only=True):
    """A validated request, stored as the ``parameters`` of its ``authorization_requests`` row."""

    client_id: str
    reply: Reply
    scope: list[str] | None
    """As asked (sorted), ``None`` when absent (the client's scopes then)."""
    resources: list[str]
    """The audience resolved now (``Audience.resources``)."""
    code_challenge: str
    nonce: str | None = None
    prompt: list[str] = msgspec.field(default_factory=list)
    max_age: int | None = None
    login_hint: str | None = None
    ui_locales: str | None = None
    acr_values: list[str] = msgspec.field(default_factory=list)
    pushed: bool = False
    """Stored by ``POST /oauth/par`` (RFC 9126) and not used yet: only ``/oauth/authorize`` with
    its ``request_uri`` may use it, once (``pushed.py``); the login and consent pages refuse it."""


def _one(query: Query, name: str) -> str | None:
    """The parameter's single value; repeated is refused (RFC 6749 section 3.1)."""
    values = query.get(name) or ()
    if len(values) > 1:
        raise AuthorizationError("invalid_request", f"The {name} parameter is repeated.")
    return values[0] if values else None


def trusted_reply(query: Query, client: ClientRecord | None) -> Reply:
    """Where refusals may be sent, or ``UntrustedRequest`` (an error page, never a redirect)."""
    ids, uris = query.get("client_id") or (), query.get("redirect_uri") or ()
    if len(ids) != 1 or len(uris) != 1 or client is None or client.client_id != ids[0]:
        raise UntrustedRequest
    if not redirect_uri_registered(client.redirect_uris, uris[0]):
        raise UntrustedRequest
    modes, states = query.get("response_mode") or (), query.get("state") or ()
    mode = modes[0] if len(modes) == 1 and modes[0] in RESPONSE_MODES else "query"
    return Reply(uris[0], mode, states[0] if len(states) == 1 else None)


def validate(
    query: Query, client: ClientRecord, reply: Reply, audiences: AudienceResolver
) -> AuthorizationParameters:
    """The request as we keep it; an ``AuthorizationError`` for the first thing wrong."""
    if "request" in query:
        raise AuthorizationError("request_not_supported", "Request objects are not supported; use PAR.")
    response_type = _one(query, "response_type")
    if response_type is None:
        raise AuthorizationError("invalid_request", "The response_type parameter is missing.")
    if response_type != "code":
        raise AuthorizationError("unsupported_response_type", "Only response_type=code is supported.")
    if "authorization_code" not in client.grant_types or "code" not in client.response_types:
        raise AuthorizationError("unauthorized_client", "This client may not use the code flow.")
    state, mode = _one(query, "state"), _one(query, "response_mode")
    if mode is not None and mode not in RESPONSE_MODES:
        raise AuthorizationError("invalid_request", "response_mode must be query or form_post.")
    scope, resources = _scope_and_audience(query, client, audiences)
    return AuthorizationParameters(
        client_id=client.client_id,
        reply=Reply(reply.redirect_uri, mode or "query", state),
        scope=scope,
        resources=resources,
        code_challenge=_code_challenge(query),
        nonce=_bounded(query, "nonce", MAX_NONCE_CHARS),
        prompt=_prompt(_one(query, "prompt")),
        max_age=_max_age(_one(query, "max_age")),
        login_hint=_bounded(query, "login_hint", MAX_HINT_CHARS),
        ui_locales=_bounded(query, "ui_locales", MAX_HINT_CHARS),
        acr_values=sorted(set((_one(query, "acr_values") or "").split())),
    )


def _code_challenge(query: Query) -> str:
    challenge, method = _one(query, "code_challenge"), _one(query, "code_challenge_method")
    if challenge is None:
        raise AuthorizationError("invalid_request", "PKCE is required: send code_challenge (S256).")
    if method != "S256":
        raise AuthorizationError("invalid_request", "code_challenge_method must be S256.")
    if not _CHALLENGE.fullmatch(challenge):
        raise AuthorizationError("invalid_request", "code_challenge must be 43 base64url characters.")
    return challenge


def _prompt(value: str | None) -> list[str]:
    prompts = sorted(set((value or "").split()))
    if any(p not in PROMPTS for p in prompts):
        raise AuthorizationError("invalid_request", "prompt may be none, login or consent.")
    if "none" in prompts and len(prompts) > 1:
        raise AuthorizationError("invalid_request", "prompt=none cannot be combined with another value.")
    return prompts


def _max_age(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or int(value) > MAX_AGE_LIMIT:
        raise AuthorizationError("invalid_request", "max_age must be a number of seconds.")
    return int(value)


def _bounded(query: Query, name: str, limit: int) -> str | None:
    value = _one(query, name)
    if value is not None and len(value) > limit:
        raise AuthorizationError("invalid_request", f"The {name} parameter is too long.")
    return value


def _scope_and_audience(
    query: Query, client: ClientRecord, audiences: AudienceResolver
) -> tuple[list[str] | None, list[str]]:
    """Resource scopes beyond the client's are ``invalid_scope`` (the user's are narrowed later)."""
    try:
        scope = parse_scope(_one(query, "scope"))
        _, resource_scopes = split_identity(scope or [])
        beyond = [s for s in resource_scopes if s not in client.scopes]
        if beyond:
            raise AuthorizationError("invalid_scope", f"Not grantable to this client: {' '.join(beyond)}.")
        named = parse_resources(" ".join(query.get("resource") or ())) or None
        audience = audiences.resolve(client, named, scope)
        audience.token_scopes(resource_scopes, resource_scopes or None)  # each owned by the audience
    except OAuthError as exc:
        raise AuthorizationError(exc.error, exc.detail) from None
    return scope, audience.resources
