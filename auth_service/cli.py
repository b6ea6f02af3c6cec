"""``python -m auth_service`` (or ``auth-service``): serve, migrate, and operator commands."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click

from auth_service.settings import ENV_PREFIX, AuthSettings, settings_from_env
from shared.cli_support import fail, read_settings, run_migrations
from shared.db.pool import DatabaseUnavailable
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
    from auth_service.keys.sealing import KeyEncryptionKeyError

    settings = read_settings(PROGRAM, settings_from_env)
    configure_logging(settings.http.log_level, settings.http.log_format)
    try:
        app = create_app(settings)
    except KeyEncryptionKeyError as exc:
        fail(PROGRAM, str(exc))
    try:
        sock = bind_socket(settings.http.host, settings.http.port, f"{ENV_PREFIX}PORT")
    except PortInUse as exc:
        fail(PROGRAM, str(exc), code=3)
    serve(app, sock, log_level=settings.http.log_level)


@main.group("db")
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the pending migrations (safe to run from several replicas at once)."""
    settings = read_settings(PROGRAM, settings_from_env)
    run_migrations(PROGRAM, settings.database.database_url, MIGRATIONS)


@main.group("keys")
def keys() -> None:
    """Signing keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Publish a new signing key now; it signs after AUTH_KEY_PREPUBLISH_SECONDS (every replica agrees)."""
    from auth_service.operator_tasks import rotate_keys

    settings = read_settings(PROGRAM, settings_from_env)
    try:
        outcome = asyncio.run(rotate_keys(settings))
    except (DatabaseUnavailable, OSError) as exc:
        fail(PROGRAM, f"database not reachable: {exc}", code=1)
    click.echo(
        f"{PROGRAM}: key {outcome.pending} published; it signs in {settings.keys.key_prepublish_seconds} s "
        f"(active now: {outcome.active})"
    )


@main.group("users")
def users() -> None:
    """User accounts."""


@users.command("bootstrap-admin")
def bootstrap_admin() -> None:
    """Create the first admin unless one exists.

    Email and password come from AUTH_BOOTSTRAP_ADMIN_EMAIL / AUTH_BOOTSTRAP_ADMIN_PASSWORD (or
    BOOTSTRAP_ADMIN_EMAIL / BOOTSTRAP_ADMIN_PASSWORD); without a password one is generated, printed
    once and written to AUTH_BOOTSTRAP_CREDENTIALS_FILE (mode 0600).
    """
    from auth_service.operator_tasks import BootstrapRefused, create_first_admin

    settings: AuthSettings = read_settings(PROGRAM, settings_from_env)
    bootstrap = settings.users
    email = bootstrap.bootstrap_admin_email or os.environ.get("BOOTSTRAP_ADMIN_EMAIL") or "admin@example.com"
    password = bootstrap.bootstrap_admin_password or os.environ.get("BOOTSTRAP_ADMIN_PASSWORD") or None
    try:
        result = asyncio.run(create_first_admin(settings, email, password))
    except BootstrapRefused as exc:
        fail(PROGRAM, str(exc), code=1)
    except (DatabaseUnavailable, OSError) as exc:
        fail(PROGRAM, f"database not reachable: {exc}", code=1)
    if result is None:
        click.echo(f"{PROGRAM}: an admin already exists; nothing to do")
        return
    click.echo(f"{PROGRAM}: created admin {result.email}")
    if result.generated_password:
        click.echo(f"{PROGRAM}: generated password (shown once): {result.generated_password}")
        if bootstrap.bootstrap_credentials_file:
            click.echo(f"{PROGRAM}: credentials written to {bootstrap.bootstrap_credentials_file}")
