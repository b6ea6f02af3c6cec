"""What every fuzzed answer must satisfy, beyond schemathesis's own checks.

- ``error_format``: an error answer is RFC 9457 ``application/problem+json`` (``type``, ``title``,
  ``status`` equal to the HTTP status, ``detail``), except on the OAuth endpoints, where 400 and
  401 are RFC 6749 error JSON (``error`` from the registered codes) and a 401 carries the Basic
  challenge. A 401 elsewhere carries a Bearer challenge (RFC 6750), a 405 ``Allow``, a 503
  ``Retry-After``.
- ``documented_success``: a 2xx answer has its documented content type and conforms to its
  documented schema. Error answers are left to the conformance tests, because the schemas do not
  document them yet (see ``known_gaps.py``).
"""

from __future__ import annotations

import json
from typing import Any

from schemathesis import Case, CheckContext, CheckFunction, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

__all__ = ["CONFORMANCE", "OAUTH_PATHS", "ROBUSTNESS", "documented_success", "error_format"]

OAUTH_PATHS = frozenset(
    {"/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/par", "/oauth/device_authorization"}
)
OAUTH_ERRORS = frozenset(
    {
        # RFC 6749 section 5.2, RFC 7009 section 2.2.1, 6749's temporarily_unavailable, and RFC 8628's
        # slow_down (registered for any token request; the throttled token endpoint answers it).
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "unsupported_token_type",
        "temporarily_unavailable",
        "slow_down",
        # RFC 8707's and the authorization request's, which PAR (RFC 9126) answers as JSON.
        "invalid_target",
        "unsupported_response_type",
        "request_not_supported",
    }
)
PROBLEM = "application/problem+json"


def _header(response: Response, name: str) -> str | None:
    values = response.headers.get(name.lower())
    return values[0] if values else None


def _media_type(response: Response) -> str:
    return (_header(response, "content-type") or "").split(";", 1)[0].strip().lower()


def _body(response: Response) -> Any:
    try:
        return json.loads(response.content or b"")
    except ValueError:
        return None


def _where(response: Response, case: Case[Any]) -> str:
    return f"{case.operation.label} answered {response.status_code}"


def _is_oauth_error(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and body.get("error") in OAUTH_ERRORS
        and isinstance(body.get("error_description", ""), str)
    )


def _is_problem(body: Any, status: int) -> bool:
    return (
        isinstance(body, dict)
        and isinstance(body.get("type"), str)
        and isinstance(body.get("title"), str)
        and body.get("status") == status
        and isinstance(body.get("detail"), str)
    )


def error_format(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    status = response.status_code
    if status < 400:
        return None
    where = _where(response, case)
    media_type, body = _media_type(response), _body(response)
    oauth = case.operation.path in OAUTH_PATHS
    if oauth and status in (400, 401):
        assert media_type == "application/json", f"{where} as {media_type!r}, not RFC 6749 JSON"
        assert _is_oauth_error(body), f"{where} with a body that is not an RFC 6749 error: {body!r}"
        if status == 401:
            challenge = _header(response, "www-authenticate") or ""
            assert challenge.startswith("Basic"), f"{where} without a Basic challenge"
    elif oauth and media_type == "application/json":
        assert _is_oauth_error(body), f"{where} with a body that is not an RFC 6749 error: {body!r}"
    else:
        assert media_type == PROBLEM, f"{where} as {media_type!r}, not {PROBLEM}"
        assert _is_problem(body, status), f"{where} with a body that is not a problem: {body!r}"
        if status == 401:
            challenge = _header(response, "www-authenticate") or ""
            assert challenge.startswith("Bearer"), f"{where} without a Bearer challenge (RFC 6750)"
    if status == 405:
        assert _header(response, "allow"), f"{where} without Allow"
    if status == 503:
        assert _header(response, "retry-after"), f"{where} without Retry-After"
    return True


def documented_success(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    if response.status_code >= 300:
        return None
    content_type_conformance(ctx, response, case)
    response_schema_conformance(ctx, response, case)
    return True


ROBUSTNESS: list[CheckFunction] = [not_a_server_error, error_format, documented_success]
"""Must hold for every operation: no 5xx, errors in the product's two formats, successes as documented."""

CONFORMANCE: list[CheckFunction] = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
"""Every answer, errors included, is documented in the schema: status, content type and body."""
