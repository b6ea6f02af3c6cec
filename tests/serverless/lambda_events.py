"""API Gateway HTTP API events (payload format 2.0) as Lambda receives them, and a Lambda
execution environment to invoke a handler in: one thread of its own, as the runtime has.

An event for a route behind the JWT authorizer carries what API Gateway adds once the token
passed (``requestContext.authorizer.jwt``: the claims, each as a string, and the scopes); the
functions must not read it, and the tests show they do not.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt

__all__ = ["LambdaEnvironment", "LambdaResponse", "http_event", "scheduled_event"]

DOMAIN = "api.example.com"


def _authorizer(token: str) -> dict[str, Any]:
    """What the JWT authorizer passes on: claims as strings (lists as ``[a b]``), the scopes."""
    claims = jwt.decode(token, options={"verify_signature": False})
    shown = {
        name: f"[{' '.join(map(str, value))}]" if isinstance(value, list) else str(value)
        for name, value in claims.items()
    }
    scope = claims.get("scope")
    return {"jwt": {"claims": shown, "scopes": scope.split() if isinstance(scope, str) else None}}


def http_event(
    method: str,
    path: str,
    *,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    token: str | None = None,
    route_key: str | None = None,
    source_ip: str = "203.0.113.7",
) -> dict[str, Any]:
    sent = {"host": DOMAIN, "user-agent": "tests/1.0", "x-forwarded-proto": "https", **(headers or {})}
    if token is not None:
        sent["authorization"] = f"Bearer {token}"
    now = time.time()
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "a1b2c3d4e5",
        "domainName": DOMAIN,
        "domainPrefix": "api",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": sent["user-agent"],
        },
        "requestId": uuid.uuid4().hex[:16],
        "routeKey": route_key or f"{method} {path}",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if token is not None:
        context["authorizer"] = _authorizer(token)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": context["routeKey"],
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": sent,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if isinstance(body, bytes):
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    elif body is not None:
        event["body"] = body
    return event


def scheduled_event(task: str) -> dict[str, Any]:
    """EventBridge hands the rule's ``Input`` as the whole event (``deploy/serverless/template.yaml``)."""
    return {"task": task}


@dataclass(frozen=True)
class LambdaResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str]

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> LambdaResponse:
        text = raw.get("body", "")
        body = base64.b64decode(text) if raw.get("isBase64Encoded") else text.encode()
        return cls(raw["statusCode"], dict(raw.get("headers") or {}), body, list(raw.get("cookies") or []))

    def json(self) -> Any:
        return json.loads(self.body)


class LambdaEnvironment:
    """One execution environment: every invocation on the same thread, like Lambda's runtime,
    never on the test's own event loop."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], dict[str, Any]]) -> None:
        self.handler = handler
        self.app: Any = None
        """The ``LambdaApp`` the handler calls, when a test built one."""
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda")

    def run(self, fn: Callable[[], Any]) -> Any:
        return self._thread.submit(fn).result(timeout=60)

    def raw(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.run(lambda: self.handler(event, None))
        return result

    def invoke(self, event: dict[str, Any]) -> LambdaResponse:
        return LambdaResponse.of(self.raw(event))

    def close(self, closing: Callable[[], None] | None = None) -> None:
        if closing is not None:
            self.run(closing)
        self._thread.shutdown()
