"""A second resource server, ``billing``, built only from ``shared.auth`` as the README shows.

It is what a team outside this repository would write: a ``JwksCache`` discovering the keys from
the issuer's metadata, a ``TokenVerifier`` for its own audience, ``BearerAuthMiddleware`` and
``requires_scopes``. tests/e2e/test_second_resource_server.py runs it as a process next to the
auth and customer services::

    BILLING_ISSUER=http://127.0.0.1:8000 BILLING_PORT=8002 python -m tests.e2e.billing_service serve
"""

from __future__ import annotations

import os
import sys
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.middleware import DefineMiddleware

from shared.auth.jwks import JwksCache
from shared.auth.litestar import BearerAuthMiddleware, current_claims, requires_scopes
from shared.auth.verifier import TokenVerifier
from shared.logs import configure_logging
from shared.serve import bind_socket, serve

__all__ = ["AUDIENCE", "create_app"]

AUDIENCE = "billing"


def create_app(issuer: str) -> Litestar:
    """The README example with a readiness probe, so the test can wait for the keys."""
    keys = JwksCache(issuer)  # discovers jwks_uri from the metadata
    verifier = TokenVerifier(keys, issuer=issuer, audience=AUDIENCE)

    @get("/invoices", opt=requires_scopes("billing:read"), sync_to_thread=False)
    def invoices(request: Request[Any, Any, Any]) -> dict[str, Any]:
        claims = current_claims(request)
        return {"sub": claims.sub, "client_id": claims.client_id, "invoices": []}

    @get(["/healthz", "/readyz"], exclude_from_auth=True, sync_to_thread=False)
    def ready() -> Response[str]:
        return Response(
            "ok" if keys.is_ready() else "keys not loaded", status_code=200 if keys.is_ready() else 503
        )

    return Litestar(
        [invoices, ready],
        middleware=[DefineMiddleware(BearerAuthMiddleware, verifier=verifier, realm=AUDIENCE)],
        on_startup=[keys.start],
        on_shutdown=[keys.close],
        logging_config=None,
    )


def main() -> None:
    if sys.argv[1:] != ["serve"]:
        sys.exit("usage: python -m tests.e2e.billing_service serve")
    configure_logging("info", "json")
    port = int(os.environ["BILLING_PORT"])
    serve(
        create_app(os.environ["BILLING_ISSUER"]),
        bind_socket("127.0.0.1", port, "BILLING_PORT"),
        log_level="info",
        keep_alive_timeout=75,
    )


if __name__ == "__main__":
    main()
