"""HTTP for ``POST /oauth/device_authorization`` (RFC 8628 section 3.1): RFC 6749 JSON, no-store.

The form is read like the token endpoint's (every parameter once, ``resource`` repeatable, the same
limits), and errors are ``OAuthError``s the app renders in one place.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec

from auth_service.device.schemas import DeviceAuthorizationResponse
from auth_service.device.service import DeviceAuthorizations
from auth_service.openapi_forms import form_operation
from auth_service.settings import OAuthSettings
from auth_service.tokens.controllers import CLIENT_FIELDS, OAUTH_ERRORS, OAuthErrorBody, form_reader
from auth_service.tokens.error_answers import json_answer

__all__ = ["device_authorization_handler"]

_ROUTE: dict[str, Any] = {
    "operation_id": "deviceAuthorization",
    "summary": "Start a device login (RFC 8628): a device code to poll with, a user code to type",
    "tags": ["OAuth 2.0"],
    "status_code": 200,
    "responses": {
        400: ResponseSpec(OAuthErrorBody, description="invalid_request, invalid_scope, invalid_target, ..."),
        401: OAUTH_ERRORS[401],
    },
    "operation_class": form_operation(
        {
            **CLIENT_FIELDS,
            "scope": "Space-separated scopes (openid profile email and resource scopes)",
            "resource": "RFC 8707: a resource server's identifier the tokens are for (may repeat)",
        },
        [],
    ),
}


def device_authorization_handler(service: DeviceAuthorizations, limits: OAuthSettings) -> HTTPRouteHandler:
    read_form = form_reader(limits)

    @post("/oauth/device_authorization", **_ROUTE)
    async def device_authorization(request: Request[Any, Any, Any]) -> Response[DeviceAuthorizationResponse]:
        form = await read_form(request)
        return json_answer(await service.start(form, request.headers.get("authorization")))

    return device_authorization
