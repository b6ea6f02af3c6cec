"""What both services' command lines share: reading settings with one-line errors, and migrating."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from shared.db.migrate import MigrationError, apply_migrations
from shared.db.pool import DatabaseUnavailable
from shared.settings import SettingsError

__all__ = ["fail", "read_settings", "run_migrations", "run_on_database"]

T = TypeVar("T")


def fail(program: str, message: str, code: int = 2) -> NoReturn:
    click.echo(f"{program}: {message}", err=True)
    sys.exit(code)


def read_settings(program: str, factory: Callable[[dict[str, str]], T]) -> T:
    try:
        return factory(dict(os.environ))
    except SettingsError as exc:
        fail(program, f"invalid setting {exc}")


def run_on_database(program: str, task: Coroutine[Any, Any, T]) -> T:
    """Run an operator task; a database that cannot be reached is one line and exit status 1."""
    try:
        return asyncio.run(task)
    except (DatabaseUnavailable, OSError) as exc:
        fail(program, f"database not reachable: {exc}", code=1)


def run_migrations(program: str, dsn: str, folder: Path) -> None:
    try:
        applied = asyncio.run(apply_migrations(dsn, folder, program))
    except MigrationError as exc:
        fail(program, str(exc), code=1)
    except OSError as exc:
        fail(program, f"database not reachable: {exc}", code=1)
    click.echo(f"{program}: {len(applied)} migration(s) applied" + (f": {applied}" if applied else ""))
