"""SQL migrations: numbered ``.sql`` files applied in order, each once.

Files are ``db/migrations/NNNN_name.sql`` in the repository and
``leaderboard/sql_migrations/`` inside the built wheel. A run applies every pending one
in one transaction that first takes a transaction-level advisory lock, then reads what
is applied: workers that start at once apply each migration exactly once (one applies
them all, the others wait, then find nothing left to do). Each migration runs in a
savepoint with its row in ``schema_migrations``: one that fails leaves nothing of itself,
and those before it are committed.

The lock is transaction-level on purpose: through PgBouncer in transaction mode a
session lock (``pg_advisory_lock``) would be taken on one server connection and the
migrations run, or the unlock sent, on another; a transaction keeps one server
connection from its BEGIN to its COMMIT, so the same code is exclusive both directly
and through a transaction pooler (docs/postgres.md).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from leaderboard.lib.db import POSTGRES_OUTAGE_ERRORS, outage

logger = logging.getLogger(__name__)

# Advisory lock key: a fixed 64-bit number only this service uses ("LBMIGRAT").
MIGRATION_LOCK_KEY = 0x4C424D4947524154 - (1 << 63)

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """The migration files or the recorded history are inconsistent."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def default_directory() -> Path:
    """The migrations shipped in the wheel, else the repository's ``db/migrations``."""
    packaged = Path(__file__).parent.parent / "sql_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "db" / "migrations"


def discover(directory: Path | None = None) -> list[Migration]:
    """The migrations in ``directory``, in version order; refuses odd names and twins.

    A version may be missing: numbers are handed out to work in progress, and one branch
    lands before another (``0010`` before ``0009``). A missing number is simply applied
    when its file arrives (docs/decisions.md, D-032); two files of one version are refused.
    """
    directory = directory or default_directory()
    if not directory.is_dir():
        raise MigrationError(f"no migrations directory at {directory}")
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.fullmatch(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        migrations.append(
            Migration(int(match["version"]), match["name"], path.read_text(encoding="utf-8"))
        )
    for before, migration in itertools.pairwise(migrations):
        if migration.version == before.version:
            raise MigrationError(
                f"two migrations are numbered {migration.version:04d} "
                f"({before.name}, {migration.name}); give the later one the next free number"
            )
    if migrations and migrations[0].version < 1:
        raise MigrationError("migration versions start at 0001")
    return migrations


async def apply_migrations(
    dsn: str, *, directory: Path | None = None, timeout: float = 10.0
) -> list[Migration]:
    """Apply pending migrations; returns those this call applied (empty when up to date)."""
    migrations = discover(directory)
    try:
        # No cached (named) statements: they would not survive a transaction pooler.
        conn = await asyncpg.connect(dsn, timeout=timeout, statement_cache_size=0)
    except POSTGRES_OUTAGE_ERRORS as exc:
        raise outage(exc) from exc
    try:
        done, failure = await _apply_locked(conn, migrations)
    finally:
        await conn.close()
    for migration in done:
        logger.info("applied migration %04d_%s", migration.version, migration.name)
    if failure is not None:
        raise failure
    return done


async def _apply_locked(
    conn: asyncpg.Connection, migrations: list[Migration]
) -> tuple[list[Migration], Exception | None]:
    """Apply what is pending, in one transaction holding the lock.

    Returns what was applied (and is committed) and the error of the migration that
    failed, if one did: it and those after it are not applied.
    """
    done: list[Migration] = []
    failure: Exception | None = None
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        applied = {row["version"]: row for row in rows}
        newer = sorted(set(applied) - {m.version for m in migrations})
        if newer:
            # A rolling upgrade: a newer release migrated already. Its migrations must
            # stay compatible with the release before it (docs/operations.md), so carry on.
            logger.warning(
                "the database has migration %04d, which this release does not know "
                "(migrated by a newer release)",
                newer[-1],
            )
        for migration in migrations:
            row = applied.get(migration.version)
            if row is not None:
                if row["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} changed after it "
                        "was applied; add a new migration instead of editing an applied one"
                    )
                continue
            try:
                async with conn.transaction():  # a savepoint: a failure leaves the others
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) "
                        "VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
            except (asyncpg.PostgresError, MigrationError) as exc:
                failure = exc
                break
            done.append(migration)
    return done, failure
