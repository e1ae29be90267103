from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from leaderboard.ops.migrations import MigrationError, apply_migrations, discover

# Deliberately not idempotent: applying 0001 twice fails (the table exists), and 0002
# counts how often it ran. Two migrators applying the same file would show.
RACE_MIGRATIONS = {
    "0001_create.sql": "CREATE TABLE runs (migration int NOT NULL);",
    "0002_count.sql": "INSERT INTO runs VALUES (2); SELECT pg_sleep(0.2);",
    "0003_count_again.sql": "INSERT INTO runs VALUES (3);",
}


def write_migrations(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


async def fetch(url: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(query)
    finally:
        await conn.close()


async def test_applying_twice_applies_once(fresh_database_url: str) -> None:
    first = await apply_migrations(fresh_database_url)
    second = await apply_migrations(fresh_database_url)
    assert [m.version for m in first] == [m.version for m in discover()]
    assert second == []
    rows = await fetch(fresh_database_url, "SELECT version, checksum FROM schema_migrations")
    assert {(r["version"], r["checksum"]) for r in rows} == {
        (m.version, m.checksum) for m in discover()
    }


@pytest.mark.parametrize("round_", range(3))
async def test_racing_migrators_apply_each_migration_exactly_once(
    fresh_database_url: str, tmp_path: Path, round_: int
) -> None:
    directory = write_migrations(tmp_path / "migrations", RACE_MIGRATIONS)
    results = await asyncio.gather(
        *(apply_migrations(fresh_database_url, directory=directory) for _ in range(4))
    )
    applied = sorted(m.version for result in results for m in result)
    assert applied == [1, 2, 3], "each migration applied by exactly one migrator"
    runs = await fetch(fresh_database_url, "SELECT migration FROM runs ORDER BY migration")
    assert [r["migration"] for r in runs] == [2, 3]


async def test_a_migration_that_lands_after_a_later_one_is_applied(
    fresh_database_url: str, tmp_path: Path
) -> None:
    """Branches take numbers in advance: 0003 may be applied before 0002 exists."""
    directory = write_migrations(
        tmp_path / "m",
        {
            "0001_create.sql": RACE_MIGRATIONS["0001_create.sql"],
            "0003_three.sql": "INSERT INTO runs VALUES (3);",
        },
    )
    assert [m.version for m in await apply_migrations(fresh_database_url, directory=directory)] == [
        1,
        3,
    ]
    write_migrations(directory, {"0002_two.sql": "INSERT INTO runs VALUES (2);"})
    assert [m.version for m in await apply_migrations(fresh_database_url, directory=directory)] == [
        2
    ]
    assert await apply_migrations(fresh_database_url, directory=directory) == []
    runs = await fetch(fresh_database_url, "SELECT migration FROM runs ORDER BY migration")
    assert [r["migration"] for r in runs] == [2, 3]


@pytest.mark.slow
def test_two_migrate_processes_started_together(fresh_database_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERBOARD_")}
    env["LEADERBOARD_DATABASE_URL"] = fresh_database_url
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "leaderboard", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    stdout = "".join(out for out, _ in outputs)
    for migration in discover():
        assert stdout.count(f"applied {migration.version:04d}_{migration.name}") == 1, stdout
    assert stdout.count("database is up to date") == 1, stdout


async def test_an_edited_applied_migration_is_refused(
    fresh_database_url: str, tmp_path: Path
) -> None:
    directory = write_migrations(tmp_path / "m", {"0001_a.sql": "CREATE TABLE a (x int);"})
    await apply_migrations(fresh_database_url, directory=directory)
    (directory / "0001_a.sql").write_text("CREATE TABLE a (x bigint);")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await apply_migrations(fresh_database_url, directory=directory)


async def test_a_failing_migration_leaves_nothing_behind(
    fresh_database_url: str, tmp_path: Path
) -> None:
    directory = write_migrations(
        tmp_path / "m",
        {
            "0001_ok.sql": "CREATE TABLE ok (x int);",
            "0002_bad.sql": "CREATE TABLE t (x int); SELEC 1;",
        },
    )
    with pytest.raises(asyncpg.PostgresSyntaxError):
        await apply_migrations(fresh_database_url, directory=directory)
    tables = await fetch(
        fresh_database_url,
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    )
    assert [r["tablename"] for r in tables] == ["ok", "schema_migrations"]
    versions = await fetch(fresh_database_url, "SELECT version FROM schema_migrations")
    assert [r["version"] for r in versions] == [1]


async def test_an_unreachable_database_is_reported_not_raised_raw() -> None:
    from leaderboard.lib.errors import DependencyUnavailableError

    with pytest.raises(DependencyUnavailableError, match="postgres is unavailable"):
        await apply_migrations("postgresql://postgres@127.0.0.1:1/x", timeout=2)
