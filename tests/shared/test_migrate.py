"""Migrations apply in order, exactly once across concurrent runners, and roll back whole on failure."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from shared.db.migrate import MigrationError, apply_migrations, discover_migrations
from tests.conftest import ROOT, DatabaseFactory


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return folder


async def test_applies_in_order_then_nothing(make_database: DatabaseFactory, tmp_path: Path) -> None:
    url = await make_database("")
    folder = _write(
        tmp_path / "m",
        {
            "0001_create.sql": "CREATE TABLE things (id int PRIMARY KEY);",
            "0002_add.sql": "ALTER TABLE things ADD COLUMN name text;",
        },
    )
    assert await apply_migrations(url, folder, "svc") == [1, 2]
    assert await apply_migrations(url, folder, "svc") == []
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [(r["version"], r["name"]) for r in rows] == [(1, "create"), (2, "add")]
        assert (
            await conn.fetchval("SELECT count(*) FROM information_schema.columns WHERE table_name='things'")
            == 2
        )
    finally:
        await conn.close()


async def test_concurrent_runners_apply_each_migration_once(
    make_database: DatabaseFactory, tmp_path: Path
) -> None:
    url = await make_database("")
    # A migration that is not idempotent: a second application would fail on the duplicate table.
    folder = _write(
        tmp_path / "m",
        {
            "0001_slow.sql": "CREATE TABLE once (id int); SELECT pg_sleep(0.5);",
            "0002_insert.sql": "INSERT INTO once VALUES (1);",
        },
    )
    results = await asyncio.gather(*(apply_migrations(url, folder, "svc") for _ in range(4)))
    assert sorted(map(tuple, results)) == [(), (), (), (1, 2)]
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM once") == 1
    finally:
        await conn.close()


async def test_two_processes_racing_apply_once(
    make_database: DatabaseFactory, customer_template: str
) -> None:
    """The real CLI, twice at the same moment, as two replicas starting together would."""
    url = await make_database("")
    env = {**os.environ, "CUSTOMER_DATABASE_URL": url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "customer_service", "db", "upgrade"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    conn = await asyncpg.connect(url)
    try:
        versions = await conn.fetch("SELECT version FROM schema_migrations")
        expected = len(discover_migrations(ROOT / "customer_service" / "migrations"))
        assert len(versions) == expected
    finally:
        await conn.close()


async def test_broken_migration_rolls_back_and_stops(make_database: DatabaseFactory, tmp_path: Path) -> None:
    url = await make_database("")
    folder = _write(
        tmp_path / "m",
        {
            "0001_ok.sql": "CREATE TABLE kept (id int);",
            "0002_broken.sql": "CREATE TABLE half_written (id int); INSERT INTO nowhere VALUES (1);",
        },
    )
    with pytest.raises(MigrationError, match="0002_broken failed and was rolled back"):
        await apply_migrations(url, folder, "svc")
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT to_regclass('kept') IS NOT NULL")
        assert await conn.fetchval("SELECT to_regclass('half_written') IS NULL")
        assert [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")] == [1]
    finally:
        await conn.close()


async def test_broken_migration_fails_the_cli_with_a_clear_error(
    make_database: DatabaseFactory, tmp_path: Path
) -> None:
    url = await make_database("")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from shared.cli_support import run_migrations; from pathlib import Path;"
            "run_migrations('svc', sys.argv[1], Path(sys.argv[2]))",
            url,
            str(_write(tmp_path / "m", {"0001_bad.sql": "SELEC 1;"})),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("svc: migration 0001_bad failed and was rolled back: syntax error")
    assert "Traceback" not in result.stderr


def test_misnamed_or_duplicate_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="named NNNN"):
        discover_migrations(_write(tmp_path / "a", {"1_x.sql": ""}))
    with pytest.raises(MigrationError, match="used twice"):
        discover_migrations(_write(tmp_path / "b", {"0001_x.sql": "", "0001_y.sql": ""}))
