"""``auth-service clients``: register, change and list OAuth clients from the command line.

Registered on the main group (``auth_service/cli.py``). Each command prints the client as JSON (a
new confidential client's secret is shown only there, once); a refused registration is one line
with the reason and exit status 1, as the admin API's 422 says it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

__all__ = ["clients"]

PROGRAM = "auth-service"
GRANTS = (
    "authorization_code",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
    "client_credentials",
    "password",
)
F = TypeVar("F", bound=Callable[..., Any])


@click.group("clients")
def clients() -> None:
    """OAuth clients (RFC 7591 members), audited as the operator."""


def _members(fn: F) -> F:
    """The options ``create`` and ``update`` share (an absent one: the default, or unchanged)."""
    options = [
        click.option("--name", default=None, help="The name people see on the consent page."),
        click.option("--grant-type", "grant_types", multiple=True, type=click.Choice(GRANTS), help="Repeat."),
        click.option("--scope", default=None, help="Space-separated resource scopes it may ask for."),
        click.option(
            "--resource", "resources", multiple=True, help="A resource server it may ask tokens for."
        ),
        click.option("--redirect-uri", "redirect_uris", multiple=True, help="Exact redirect URI (repeat)."),
        click.option(
            "--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True, help="Repeat."
        ),
        click.option("--backchannel-logout-uri", default=None, help="Back-channel logout URI ('' clears)."),
        click.option("--first-party/--third-party", "first_party", default=None, help="Skip consent."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _fields(**given: Any) -> dict[str, Any]:
    """The body members the options name: tuples that were given become lists, absent ones vanish."""
    body: dict[str, Any] = {}
    for name, value in given.items():
        if value is None or value == ():
            continue
        body[name] = list(value) if isinstance(value, tuple) else value
    if body.get("backchannel_logout_uri") == "":
        body["backchannel_logout_uri"] = None
    if "name" in body:
        body["client_name"] = body.pop("name")
    return body


def _run(
    what: str, task: Callable[[Any, Any], Coroutine[Any, Any, Any]], body: dict[str, Any], target: type
) -> None:
    """``task(settings, body as target)`` on the database, its client printed as JSON."""
    import msgspec

    from auth_service.settings import settings_from_env
    from shared.cli_support import fail, read_settings, run_on_database
    from shared.errors import DomainError

    settings = read_settings(PROGRAM, settings_from_env)
    try:
        data: Any = msgspec.convert(body, target)
    except msgspec.ValidationError as exc:
        fail(PROGRAM, f"client not {what}: {exc}", code=2)
    try:
        client = run_on_database(PROGRAM, task(settings, data))
    except DomainError as exc:
        fail(PROGRAM, f"client not {what}: {exc.detail}", code=1)
    click.echo(msgspec.json.encode(client).decode())


@clients.command("create")
@_members
@click.option("--client-id", default=None, help="Default: a random one.")
@click.option(
    "--public", is_flag=True, help="No secret (token_endpoint_auth_method none): native and SPA apps."
)
def clients_create(public: bool, client_id: str | None, **given: Any) -> None:
    """Register a client; prints it as JSON, with its secret (shown only here)."""
    from auth_service.clients.operator import register_client
    from auth_service.clients.schemas import ClientCreate

    body = _fields(client_id=client_id, **given)
    if "client_name" not in body:
        raise click.UsageError("--name is required")
    if public:
        body["token_endpoint_auth_method"] = "none"  # noqa: S105
    _run("registered", register_client, body, ClientCreate)


@clients.command("update")
@click.argument("client_id")
@_members
def clients_update(client_id: str, **given: Any) -> None:
    """Change what the options name (a repeated option replaces the whole list); prints the client."""
    from auth_service.clients.operator import update_client
    from auth_service.clients.schemas import ClientUpdate

    body = _fields(**given)
    _run("updated", lambda settings, data: update_client(settings, client_id, data), body, ClientUpdate)


@clients.command("list")
def clients_list() -> None:
    """Print every client as a JSON array (never a secret)."""
    import msgspec

    from auth_service.clients.operator import list_clients
    from auth_service.settings import settings_from_env
    from shared.cli_support import read_settings, run_on_database

    settings = read_settings(PROGRAM, settings_from_env)
    click.echo(msgspec.json.encode(run_on_database(PROGRAM, list_clients(settings))).decode())
