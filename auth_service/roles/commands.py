"""``auth-service roles``: list roles and set whether holding one requires a second factor.

Registered on the main group (``auth_service/cli.py``); each command prints JSON (a role, or every
role), and an unknown role is one line and exit status 1, as the admin API's 404 says it.
"""

from __future__ import annotations

import click

__all__ = ["roles"]

PROGRAM = "auth-service"


@click.group("roles")
def roles() -> None:
    """Roles: the scopes they grant and their second-factor policy (changes audited as the operator)."""


@roles.command("list")
def roles_list() -> None:
    """Print every role as a JSON array (name, scopes, requires_mfa...)."""
    import msgspec

    from auth_service.roles.operator import list_roles
    from auth_service.settings import settings_from_env
    from shared.cli_support import read_settings, run_on_database

    settings = read_settings(PROGRAM, settings_from_env)
    click.echo(msgspec.json.encode(run_on_database(PROGRAM, list_roles(settings))).decode())


@roles.command("set-mfa")
@click.argument("name")
@click.option("--required/--not-required", default=True, show_default=True, help="The policy to set.")
def roles_set_mfa(name: str, required: bool) -> None:
    """Require (or stop requiring) a second factor of whoever holds role NAME.

    A holder without one sets one up at their next browser login; prints the role.
    """
    import msgspec

    from auth_service.roles.operator import set_role_mfa
    from auth_service.settings import settings_from_env
    from shared.cli_support import fail, read_settings, run_on_database
    from shared.errors import DomainError

    settings = read_settings(PROGRAM, settings_from_env)
    try:
        role = run_on_database(PROGRAM, set_role_mfa(settings, name, required))
    except DomainError as exc:
        fail(PROGRAM, f"role not changed: {exc.detail}", code=1)
    click.echo(msgspec.json.encode(role).decode())
