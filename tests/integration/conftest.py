"""Two opt-in ways to run the integration suites against another Postgres setup.

``LEADERBOARD_TEST_PGBOUNCER=1``: the session's database (``database_url``) and each
test's empty one (``fresh_database_url``) are reached through a PgBouncer in transaction
mode that the session starts in front of the test Postgres (tests/pgbouncer.py);
migrations run through it too. The service finds the pooler by itself
(``LEADERBOARD_DATABASE_POOLER`` defaults to ``auto``, lib/db.py). Databases are still
created and dropped on the server directly. Test helpers that connect with plain
``asyncpg.connect`` get asyncpg's statement cache off in this mode, as any client of a
transaction pooler must (docs/postgres.md): a named statement prepared on one server
connection is unknown to the next.

``LEADERBOARD_TEST_PARTITIONED=1``: the session's database also gets the staged
partitioning migration (tests/partitioning.py), and the group-commit statement runs
with the one change it needs first. This is how the partitioned schema is checked
against every suite before it ships.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from leaderboard.ops.migrations import apply_migrations
from tests.conftest import create_database, drop_database, with_database
from tests.partitioning import with_partitioning
from tests.pgbouncer import PgBouncer, running_pgbouncer


def opted_in(variable: str) -> bool:
    value = os.environ.get(variable, "").strip()
    if value not in {"", "0", "1"}:
        raise pytest.UsageError(f"{variable}: expected 0 or 1, got {value!r}")
    return value == "1"


PGBOUNCER = opted_in("LEADERBOARD_TEST_PGBOUNCER")
PARTITIONED = opted_in("LEADERBOARD_TEST_PARTITIONED")


@pytest.fixture(scope="session")
def pgbouncer(postgres_server_url: str) -> Iterator[PgBouncer | None]:
    """The session's PgBouncer in PgBouncer mode; None otherwise."""
    if not PGBOUNCER:
        yield None
        return
    with running_pgbouncer(postgres_server_url) as bouncer:
        yield bouncer


def _reached(server_url: str, bouncer: PgBouncer | None, name: str) -> str:
    return bouncer.url(name) if bouncer is not None else with_database(server_url, name)


if PGBOUNCER:

    @pytest.fixture(scope="session", autouse=True)
    def _no_named_statements() -> Iterator[None]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                asyncpg, "connect", functools.partial(asyncpg.connect, statement_cache_size=0)
            )
            yield

    @pytest.fixture
    async def fresh_database_url(
        postgres_server_url: str, pgbouncer: PgBouncer | None
    ) -> AsyncIterator[str]:
        """An empty database for one test, reached through PgBouncer."""
        name = f"leaderboard_test_{secrets.token_hex(6)}"
        await create_database(postgres_server_url, name)
        try:
            yield _reached(postgres_server_url, pgbouncer, name)
        finally:
            await drop_database(postgres_server_url, name)


if PGBOUNCER or PARTITIONED:

    @pytest.fixture(scope="session")
    def database_url(
        postgres_server_url: str,
        pgbouncer: PgBouncer | None,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> Iterator[str]:
        """The session's migrated database (through PgBouncer; partitioned: as opted in)."""
        name = f"leaderboard_test_{secrets.token_hex(6)}"
        asyncio.run(create_database(postgres_server_url, name))
        try:
            url = _reached(postgres_server_url, pgbouncer, name)
            directory: Path | None = None
            if PARTITIONED:
                directory = with_partitioning(tmp_path_factory.mktemp("migrations"))
            asyncio.run(apply_migrations(url, directory=directory))
            yield url
        finally:
            asyncio.run(drop_database(postgres_server_url, name))
