"""What the OpenAPI document says about the customer routes beyond their successes.

Litestar documents a handler's success and its own 400 (as ``application/json``); the answers this
API really gives (problem+json 400/401/403/404/409/412/413/415/422/428/503, 304 for
``If-None-Match``), the response headers clients rely on (``ETag``, ``Location``, ``Link``) and
the bearer token with the scope each route needs (and, for a route requiring step-up, the RFC 9470
challenge of its 401) are declared here, once, and the list and
search query parameters are generated from their declaration (``query_params.py``), so client
generators and schema-driven fuzzers see the API as it behaves.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from litestar.datastructures import ResponseHeader
from litestar.enums import ParamType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, Operation, Parameter, SecurityScheme

from customer_service.customers.query_params import DeclaredQuery, declared_params
from customer_service.customers.schemas import FieldError
from shared.http.problems import problem_responses

__all__ = ["BEARER", "ETAG", "LINK", "LOCATION", "NOT_MODIFIED", "components", "problems", "query_operation"]

BEARER = "bearerToken"


class Problem(msgspec.Struct):
    """RFC 9457 problem details; ``errors`` lists each invalid field or parameter."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


_DESCRIPTIONS = {
    400: "Malformed request: bad CPF in the path, bad query parameter or cursor, body not a JSON object",
    401: "No valid bearer token (WWW-Authenticate: Bearer ...)",
    403: "The token lacks the scope this route needs (insufficient_scope)",
    404: "No customer has this CPF",
    409: "The CPF, e-mail or phone number is another customer's (errors names which)",
    412: "If-Match names a version that is no longer current: nothing was changed",
    413: "The body is larger than CUSTOMER_MAX_BODY_BYTES",
    415: "The body is not in the media type this route takes",
    422: "Invalid attributes (errors lists every one), or a search too broad to finish in time",
    428: "If-Match is required (CUSTOMER_REQUIRE_IF_MATCH): send the ETag from GET",
    503: "The database (or the revocation list) is unavailable; retry after Retry-After",
}
_STEP_UP_401 = (
    "No valid bearer token, or one whose login is not strong or recent enough for this route "
    '(RFC 9470): WWW-Authenticate: Bearer error="insufficient_user_authentication" with the '
    'acr_values (acr_values="2": a second factor) and/or max_age to log in again with, then retry '
    "with the new token (CUSTOMER_DELETE_REQUIRES_MFA, CUSTOMER_DELETE_MAX_AGE)"
)


def problems(*statuses: int, step_up: bool = False) -> dict[int, ResponseSpec]:
    """``step_up``: the route requires a login strength, which its 401 then describes."""
    descriptions = {**_DESCRIPTIONS, 401: _STEP_UP_401} if step_up else _DESCRIPTIONS
    return problem_responses(Problem, descriptions, (*statuses, 401, 403, 503))


NOT_MODIFIED = ResponseSpec(
    None, description="If-None-Match matched the current ETag", generate_examples=False
)
ETAG = ResponseHeader(name="ETag", description="The customer's version (strong).", documentation_only=True)
LOCATION = ResponseHeader(name="Location", description="The new customer's URL.", documentation_only=True)
LINK = ResponseHeader(name="Link", description='The next page: <url>; rel="next".', documentation_only=True)


def components() -> Components:
    return Components(
        security_schemes={
            BEARER: SecurityScheme(
                type="http",
                scheme="bearer",
                bearer_format="JWT",
                description="An RFC 9068 access token of the auth service. Scopes: customers:read "
                "(reads), customers:write (create, replace, patch), customers:delete (delete, by "
                "default only with a token from a login with a second factor: see its 401).",
            )
        }
    )


def query_operation(query: type[DeclaredQuery]) -> type[Operation]:
    """An OpenAPI ``Operation`` listing the parameters ``query`` declares, for a route's
    ``operation_class`` (Litestar documents only the parameters of the handler's signature, and
    the handlers read the query through ``query.read``)."""
    parameters = [
        Parameter(
            name=name, param_in=ParamType.QUERY, schema=param.value.schema, description=param.description
        )
        for _, name, param in declared_params(query)
    ]

    @dataclass
    class DeclaredQueryOperation(Operation):
        def __post_init__(self) -> None:
            self.parameters = [*(self.parameters or ()), *parameters]

    return DeclaredQueryOperation
