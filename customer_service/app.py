"""``create_app(settings)``: the customer service as a Litestar app, with everything it needs injected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.openapi import OpenAPIConfig

from customer_service.settings import CustomerSettings
from shared.db.pool import PostgresPool
from shared.http.content_type import require_declared_content_type
from shared.http.health import health_handlers
from shared.http.problems import problem_details_plugin
from shared.http.request_log import install_request_log

__all__ = ["create_app"]


def create_app(settings: CustomerSettings) -> Litestar:
    pool = PostgresPool(settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        await pool.open()
        try:
            yield
        finally:
            await pool.close()

    app = Litestar(
        route_handlers=[*health_handlers({"database": pool.is_ready})],
        lifespan=[database],
        plugins=[problem_details_plugin()],
        before_request=require_declared_content_type,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="Customer service", version="1", path="/schema"),
        logging_config=None,
        debug=False,
    )
    install_request_log(app)
    app.state.settings = settings
    app.state.pool = pool
    return app
