"""The OpenAPI documents fuzzed: built from ``create_app`` at collection time.

``schema.parametrize()`` makes one pytest item per operation, which needs the schema before any
fixture runs (so each operation can carry its own ``xfail``); the services are not running yet,
so the document comes from the apps themselves, built with throwaway settings (nothing connects
in ``create_app``). ``test_fuzzed_schema_is_the_served_one`` checks the running processes serve
exactly this document.

Litestar fills response schemas with random examples (``ResponseSpec(generate_examples=True)`` is
its default), so two builds differ: the examples are dropped here, which also keeps the
derandomized default run the same from one run to the next.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

import msgspec
from litestar import Litestar
from litestar.serialization import encode_json

from auth_service.app import create_app as create_auth_app
from auth_service.settings import AuthSettings
from customer_service.app import create_app as create_customer_app
from customer_service.settings import CustomerSettings
from shared.auth.keys import StaticKeySource
from shared.settings import settings_from_values

__all__ = ["SCHEMA_PATH", "auth_document", "customer_document", "without_examples"]

SCHEMA_PATH = "/schema/openapi.json"
_NOWHERE = "postgresql://fuzz@127.0.0.1:1/none"


def without_examples(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: without_examples(value) for key, value in node.items() if key not in ("example", "examples")
        }
    if isinstance(node, list):
        return [without_examples(item) for item in node]
    return node


def _document(app: Litestar) -> dict[str, Any]:
    document: dict[str, Any] = without_examples(
        msgspec.json.decode(encode_json(app.openapi_schema.to_schema()))
    )
    return document


def auth_document() -> dict[str, Any]:
    kek = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return _document(
        create_auth_app(
            settings_from_values(AuthSettings, {"database_url": _NOWHERE, "key_encryption_key": kek})
        )
    )


def customer_document() -> dict[str, Any]:
    settings = settings_from_values(  # DELETE's step-up off, as in the fuzzed process (conftest.py)
        CustomerSettings,
        {"database_url": _NOWHERE, "issuer": "http://issuer.invalid", "delete_requires_mfa": False},
    )
    return _document(create_customer_app(settings, key_source=StaticKeySource([])))
