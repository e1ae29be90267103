"""``LEADERBOARD_TEST_PGBOUNCER=1``: the integration suites talk to Postgres through PgBouncer.

The session's database (``database_url``) and each test's empty one
(``fresh_database_url``) are then reached through a PgBouncer in transaction mode that
the session starts in front of the test Postgres (tests/pgbouncer.py); migrations run
through it too. The service finds the pooler by itself (``LEADERBOARD_DATABASE_POOLER``
defaults to ``auto``, lib/db.py). Databases are still created and dropped on the server
directly (PgBouncer has no CREATE DATABASE of its own to offer).

Test helpers that connect with plain ``asyncpg.connect`` get asyncpg's statement cache
off in this mode, as any client of a transaction pooler must (docs/postgres.md): a named
statement prepared on one server connection is unknown to the next.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from leaderboard.ops.migrations import apply_migrations
from tests.conftest import create_database, drop_database
from tests.pgbouncer import PgBouncer, running_pgbouncer


def pgbouncer_mode() -> bool:
    value = os.environ.get("LEADERBOARD_TEST_PGBOUNCER", "").strip()
    if value not in {"", "0", "1"}:
        raise pytest.UsageError(f"LEADERBOARD_TEST_PGBOUNCER: expected 0 or 1, got {value!r}")
    return value == "1"


if pgbouncer_mode():

    @pytest.fixture(scope="session")
    def pgbouncer(postgres_server_url: str) -> Iterator[PgBouncer]:
        with running_pgbouncer(postgres_server_url) as bouncer:
            yield bouncer

    @pytest.fixture(scope="session", autouse=True)
    def _no_named_statements() -> Iterator[None]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                asyncpg, "connect", functools.partial(asyncpg.connect, statement_cache_size=0)
            )
            yield

    @pytest.fixture(scope="session")
    def database_url(postgres_server_url: str, pgbouncer: PgBouncer) -> Iterator[str]:
        """The session's migrated database, reached (and migrated) through PgBouncer."""
        name = f"leaderboard_test_{secrets.token_hex(6)}"
        asyncio.run(create_database(postgres_server_url, name))
        try:
            url = pgbouncer.url(name)
            asyncio.run(apply_migrations(url))
            yield url
        finally:
            asyncio.run(drop_database(postgres_server_url, name))

    @pytest.fixture
    async def fresh_database_url(
        postgres_server_url: str, pgbouncer: PgBouncer
    ) -> AsyncIterator[str]:
        """An empty database for one test, reached through PgBouncer."""
        name = f"leaderboard_test_{secrets.token_hex(6)}"
        await create_database(postgres_server_url, name)
        try:
            yield pgbouncer.url(name)
        finally:
            await drop_database(postgres_server_url, name)
