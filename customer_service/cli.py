"""``python -m customer_service`` (or ``customer-service``): serve, migrate, and operator commands."""

from __future__ import annotations

from pathlib import Path

import click

from customer_service.settings import ENV_PREFIX, settings_from_env
from shared.cli_support import fail, read_settings, run_migrations
from shared.logs import configure_logging
from shared.serve import PortInUse, bind_socket, serve

PROGRAM = "customer-service"
MIGRATIONS = Path(__file__).parent / "migrations"


@click.group()
def main() -> None:
    """The customer service (resource server)."""


@main.command("serve")
def serve_command() -> None:
    """Serve HTTP on CUSTOMER_HOST:CUSTOMER_PORT until SIGINT/SIGTERM."""
    from customer_service.app import create_app

    settings = read_settings(PROGRAM, settings_from_env)
    http = settings.http
    configure_logging(http.log_level, http.log_format)
    try:
        sock = bind_socket(http.host, http.port, f"{ENV_PREFIX}PORT")
    except PortInUse as exc:
        fail(PROGRAM, str(exc), code=3)
    serve(create_app(settings), sock, log_level=http.log_level, keep_alive_timeout=http.keep_alive_timeout)


@main.group("db")
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the pending migrations (safe to run from several replicas at once)."""
    settings = read_settings(PROGRAM, settings_from_env)
    run_migrations(PROGRAM, settings.database.database_url, MIGRATIONS)
