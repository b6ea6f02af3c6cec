"""``python -m auth_service`` (or ``auth-service``): serve, migrate, and operator commands."""

from __future__ import annotations

import os
from pathlib import Path

import click

from auth_service.clients.commands import clients
from auth_service.roles.commands import roles
from auth_service.settings import ENV_PREFIX, AuthSettings, settings_from_env
from shared.cli_support import fail, read_settings, run_migrations, run_on_database
from shared.logs import configure_logging
from shared.serve import PortInUse, bind_socket, serve

PROGRAM = "auth-service"
MIGRATIONS = Path(__file__).parent / "migrations"


@click.group()
def main() -> None:
    """The auth service (identity provider)."""


main.add_command(clients)
main.add_command(roles)


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
    serve(app, sock, log_level=settings.http.log_level, keep_alive_timeout=settings.http.keep_alive_timeout)


@main.group("db")
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the pending migrations (safe to run from several replicas at once)."""
    settings = read_settings(PROGRAM, settings_from_env)
    run_migrations(PROGRAM, settings.database.database_url, MIGRATIONS)


@main.command("purge")
def purge_command() -> None:
    """Delete what retention no longer keeps, now (audited as the operator; for a CronJob).

    Expired refresh tokens and ended sessions (a day past their end), revocations no verifier can
    still need, audit events older than AUTH_AUDIT_RETENTION_DAYS. Under the same lock as the
    service's own rounds (AUTH_PURGE_INTERVAL): while one runs, this does nothing and says so.
    """
    from auth_service.retention.operator import purge_now

    settings = read_settings(PROGRAM, settings_from_env)
    report = run_on_database(PROGRAM, purge_now(settings))
    if report is None:
        click.echo(f"{PROGRAM}: another purge is running; nothing done")
        return
    click.echo(f"{PROGRAM}: purged {report.describe()}")


@main.command("login")
@click.option("--issuer", default=None, help="The identity provider (default: AUTH_ISSUER, as `serve`).")
@click.option("--scope", default=None, help="Space-separated scopes (default: the client's).")
@click.option("--resource", "resources", multiple=True, help="A resource server the tokens are for (repeat).")
@click.option("--client-id", default="auth-cli", show_default=True, help="A public client of the issuer.")
@click.option("--device", is_flag=True, help="Device flow: a URL and a code to open on another device.")
@click.option("--output", default=None, help="Write the token response to this file (mode 0600).")
@click.option("--no-browser", is_flag=True, help="Only print the sign-in URL; do not open a browser.")
@click.option("--timeout", default=300.0, show_default=True, help="Seconds to wait for the browser.")
def login_command(
    issuer: str | None,
    scope: str | None,
    resources: tuple[str, ...],
    client_id: str,
    device: bool,
    output: str | None,
    no_browser: bool,
    timeout: float,
) -> None:
    """Log in as a person through the browser and print the tokens (like `gcloud auth login`).

    An authorization code flow with PKCE to a loopback redirect on a free port; with --device, the
    device authorization grant (RFC 8628). No client ever sees the password.
    """
    from auth_service.login_cli import LoginFailed, LoginRequest, device_login, loopback_login, write_tokens

    if issuer is None:
        issuer = read_settings(PROGRAM, settings_from_env).tokens.issuer
    request = LoginRequest(
        issuer=issuer.rstrip("/"),
        client_id=client_id,
        scope=scope,
        resources=resources,
        timeout=timeout,
        say=lambda text: click.echo(text, err=True),
        open_browser=not no_browser,
    )
    try:
        tokens = device_login(request) if device else loopback_login(request)
    except LoginFailed as exc:
        fail(PROGRAM, str(exc), code=1)
    write_tokens(tokens, output)
    if output:
        click.echo(f"{PROGRAM}: tokens written to {output}", err=True)


@main.group("keys")
def keys() -> None:
    """Signing keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Publish a new signing key now; it signs after AUTH_KEY_PREPUBLISH_SECONDS (every replica agrees)."""
    from auth_service.operator_tasks import rotate_keys

    settings = read_settings(PROGRAM, settings_from_env)
    outcome = run_on_database(PROGRAM, rotate_keys(settings))
    click.echo(
        f"{PROGRAM}: key {outcome.pending} published; it signs in {settings.keys.key_prepublish_seconds} s "
        f"(active now: {outcome.active})"
    )


@keys.command("revoke")
@click.argument("kid")
def keys_revoke(kid: str) -> None:
    """Emergency revocation of signing key KID (audited as the operator).

    KID stops signing and leaves the JWKS now; if it was the active key, the pending key or a fresh
    one signs at once. Every verifier drops KID and refuses its tokens within seconds. Revoking a
    revoked key changes nothing.
    """
    from auth_service.keys.revocation import SigningKeyNotFound
    from auth_service.keys.sealing import KeyEncryptionKeyError
    from auth_service.operator_tasks import revoke_key

    settings = read_settings(PROGRAM, settings_from_env)
    try:
        outcome = run_on_database(PROGRAM, revoke_key(settings, kid))
    except SigningKeyNotFound:
        fail(PROGRAM, f"no signing key {kid}", code=1)
    except KeyEncryptionKeyError as exc:
        fail(PROGRAM, str(exc))
    when = outcome.revoked_at.isoformat() if outcome.revoked_at else "?"
    if outcome.already_revoked:
        click.echo(f"{PROGRAM}: key {kid} was already revoked (at {when}); nothing changed")
    else:
        click.echo(f"{PROGRAM}: key {kid} revoked at {when}; verifiers refuse its tokens within seconds")
    click.echo(f"{PROGRAM}: key {outcome.active} signs now")


@keys.command("reseal")
def keys_reseal() -> None:
    """Seal signing keys, second-factor secrets and queued mail again under AUTH_KEY_ENCRYPTION_KEY.

    One transaction, audited. Run it once the new key-encryption key is in AUTH_KEY_ENCRYPTION_KEY
    (or _FILE) on every replica and the old one in AUTH_PREVIOUS_KEY_ENCRYPTION_KEYS; then the old
    one can be removed."""
    from auth_service.keys.sealing import KeyEncryptionKeyError
    from auth_service.operator_tasks import reseal_keys

    settings = read_settings(PROGRAM, settings_from_env)
    try:
        outcome = run_on_database(PROGRAM, reseal_keys(settings))
    except KeyEncryptionKeyError as exc:
        fail(PROGRAM, str(exc))
    click.echo(
        f"{PROGRAM}: {outcome.resealed} signing key(s) resealed under the newest key-encryption key "
        f"({outcome.from_previous} were sealed with a previous one), with {outcome.factor_secrets} "
        f"second-factor secret(s) and {outcome.mail} queued mail(s)"
    )
    if settings.keys.previous_key_encryption_keys:
        click.echo(f"{PROGRAM}: AUTH_PREVIOUS_KEY_ENCRYPTION_KEYS can now be emptied")


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
        result = run_on_database(PROGRAM, create_first_admin(settings, email, password))
    except BootstrapRefused as exc:
        fail(PROGRAM, str(exc), code=1)
    if result is None:
        click.echo(f"{PROGRAM}: an admin already exists; nothing to do")
        return
    click.echo(f"{PROGRAM}: created admin {result.email}")
    if result.generated_password:
        click.echo(f"{PROGRAM}: generated password (shown once): {result.generated_password}")
        if bootstrap.bootstrap_credentials_file:
            click.echo(f"{PROGRAM}: credentials written to {bootstrap.bootstrap_credentials_file}")


@users.command("recover-admin")
@click.option("--email", required=True, help="The account to make an admin (created if missing).")
def recover_admin_command(email: str) -> None:
    """Give the organisation an admin back, with database access (audited as the operator).

    The `admin` role gets every admin scope again (recreated if deleted); the account is created
    or re-enabled with it and a new generated password, printed once and written to
    AUTH_BOOTSTRAP_CREDENTIALS_FILE (mode 0600) when set; its old sessions end.
    """
    from auth_service.operator_tasks import RecoveryRefused, recover_admin

    settings: AuthSettings = read_settings(PROGRAM, settings_from_env)
    try:
        recovered, password = run_on_database(PROGRAM, recover_admin(settings, email))
    except RecoveryRefused as exc:
        fail(PROGRAM, str(exc), code=1)
    how = "created" if recovered.created else "restored"
    click.echo(f"{PROGRAM}: {how} admin {recovered.email} (role admin: {' '.join(recovered.role_scopes)})")
    click.echo(f"{PROGRAM}: generated password (shown once): {password}")
    if settings.users.bootstrap_credentials_file:
        click.echo(f"{PROGRAM}: credentials written to {settings.users.bootstrap_credentials_file}")


@main.group("resource-servers")
def resource_servers() -> None:
    """Resource servers: the APIs tokens are issued for (RFC 8707 audiences) and the scopes they own."""


@resource_servers.command("create")
@click.option("--identifier", required=True, help="The tokens' `aud`: an absolute URI or a name.")
@click.option("--name", required=True, help="A human-readable name.")
@click.option("--scope", "scopes", multiple=True, help="A scope it owns (repeat for each).")
@click.option("--access-token-ttl", type=int, default=None, help="Seconds its tokens live (30-86400).")
def resource_servers_create(
    identifier: str, name: str, scopes: tuple[str, ...], access_token_ttl: int | None
) -> None:
    """Register a resource server (audited as the operator); a taken identifier or scope fails."""
    import msgspec

    from auth_service.resources.operator import register_resource_server
    from auth_service.resources.schemas import ResourceServerCreate
    from shared.errors import DomainError

    settings = read_settings(PROGRAM, settings_from_env)
    fields = {
        "identifier": identifier,
        "name": name,
        "scopes": list(scopes),
        "access_token_ttl": access_token_ttl,
    }
    try:
        data = msgspec.convert(fields, ResourceServerCreate)
    except msgspec.ValidationError as exc:
        fail(PROGRAM, f"resource server not registered: {exc}", code=2)
    try:
        server = run_on_database(PROGRAM, register_resource_server(settings, data))
    except DomainError as exc:
        fail(PROGRAM, f"resource server not registered: {exc.detail}", code=1)
    listed = " ".join(server.scopes)
    click.echo(f"{PROGRAM}: registered resource server {server.identifier} (scopes: {listed})")


@resource_servers.command("list")
def resource_servers_list() -> None:
    """Print every resource server as a JSON array (identifier, name, scopes, access_token_ttl, managed)."""
    import msgspec

    from auth_service.resources.operator import list_resource_servers

    settings = read_settings(PROGRAM, settings_from_env)
    servers = run_on_database(PROGRAM, list_resource_servers(settings))
    click.echo(msgspec.json.encode(servers).decode())
