"""``python -m auth_service`` (or ``auth-service``): serve, migrate, and operator commands."""

from __future__ import annotations

from pathlib import Path

import click

from auth_service.settings import ENV_PREFIX, settings_from_env
from shared.cli_support import fail, read_settings, run_migrations
from shared.logs import configure_logging
from shared.serve import PortInUse, bind_socket, serve

PROGRAM = "auth-service"
MIGRATIONS = Path(__file__).parent / "migrations"


@click.group()
def main() -> None:
    """The auth service (identity provider)."""


@main.command("serve")
def serve_command() -> None:
    """Serve HTTP on AUTH_HOST:AUTH_PORT until SIGINT/SIGTERM."""
    from auth_service.app import create_app

    settings = read_settings(PROGRAM, settings_from_env)
    configure_logging(settings.log_level, settings.log_format)
    try:
        sock = bind_socket(settings.host, settings.port, f"{ENV_PREFIX}PORT")
    except PortInUse as exc:
        fail(PROGRAM, str(exc), code=3)
    serve(create_app(settings), sock, log_level=settings.log_level)


@main.group("db")
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the pending migrations (safe to run from several replicas at once)."""
    settings = read_settings(PROGRAM, settings_from_env)
    run_migrations(PROGRAM, settings.database_url, MIGRATIONS)
