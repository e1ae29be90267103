"""PgBouncer in transaction mode in front of the test Postgres: the service works through it.

These run in every pass (skipped when the ``pgbouncer`` binary is missing, failed then
when ``LEADERBOARD_TEST_REQUIRE_PGBOUNCER=1``). ``LEADERBOARD_TEST_PGBOUNCER=1`` runs the
whole integration suite through one as well (tests/integration/conftest.py).

The pool (tests/pgbouncer.py) is smaller than the clients' pools, so one client's
consecutive statements do land on different server connections.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar

from leaderboard.lib.db import Database
from leaderboard.lib.errors import DependencyUnavailableError
from leaderboard.lib.features import Services
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings, SettingsError
from leaderboard.ops.migrations import MIGRATION_LOCK_KEY, apply_migrations, discover
from leaderboard.ranking.index import RankIndex
from leaderboard.scores.retention import RetentionJob
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.conftest import ADMIN, create_database, drop_database, running, with_database
from tests.helpers import async_wait_until
from tests.pgbouncer import PgBouncer, running_pgbouncer
from tests.scores_helpers import create_board, insert_players, submit, top


@pytest.fixture(scope="module")
def bouncer(postgres_server_url: str) -> Iterator[PgBouncer]:
    with running_pgbouncer(postgres_server_url, pool_size=4) as bouncer:
        yield bouncer


@pytest.fixture
async def database(postgres_server_url: str, bouncer: PgBouncer) -> AsyncIterator[str]:
    """The name of an empty database of this test's own."""
    name = f"leaderboard_test_{secrets.token_hex(6)}"
    await create_database(postgres_server_url, name)
    try:
        yield name
    finally:
        await drop_database(postgres_server_url, name)


class Through(msgspec.Struct):
    http: httpx.AsyncClient
    app: Litestar
    url: str
    """The database, through PgBouncer."""

    @property
    def services(self) -> Services:
        return self.app.plugins.get(InfrastructurePlugin).services


@pytest.fixture
async def through(
    settings: Settings, redis: AnyRedis, bouncer: PgBouncer, database: str
) -> AsyncIterator[Through]:
    """The app on a database migrated through PgBouncer, reaching it only that way."""
    url = bouncer.url(database)
    await apply_migrations(url)
    app = create_app(msgspec.structs.replace(settings, database_url=url))
    transport = httpx.ASGITransport(app=cast("Any", app))  # Litestar's own ASGI types
    async with (
        running(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http,
    ):
        yield Through(http, app, url)


async def plain(url: str) -> asyncpg.Connection:
    """A connection for checks (no statement cache: it may be a PgBouncer URL)."""
    return await asyncpg.connect(url, statement_cache_size=0)


async def test_the_pooler_is_found_and_statements_are_not_cached(
    bouncer: PgBouncer, postgres_server_url: str, database: str
) -> None:
    cases = [
        (bouncer.url(database), "auto", True),
        (with_database(postgres_server_url, database), "auto", False),
        (with_database(postgres_server_url, database), "transaction", True),
        (bouncer.url(database), "none", False),
    ]
    for url, pooler, pooled in cases:
        db = Database(url, pooler=pooler)  # type: ignore[arg-type]
        await db.open()
        try:
            assert db.pooled is pooled, (url, pooler)
            async with db.connection() as conn:
                assert conn._con._stmt_cache.get_max_size() == (0 if pooled else 100)  # type: ignore[union-attr]
            # A group commit's connection plans its statement once, where it keeps one.
            (mode,) = await db.commit_batch("SELECT current_setting('plan_cache_mode')")
            assert mode[0] == ("auto" if pooled else "force_generic_plan"), (url, pooler)
        finally:
            await db.close()


async def test_many_concurrent_statements_through_a_small_pool(
    bouncer: PgBouncer, database: str
) -> None:
    """40 clients, 4 server connections: every statement parsed unnamed, none lost."""
    db = Database(bouncer.url(database), max_size=40)
    await db.open()
    try:
        results = await asyncio.gather(*(db.fetchval("SELECT $1::int * 2", i) for i in range(400)))
        assert results == [i * 2 for i in range(400)]
        async with db.connection() as conn:  # consecutive statements, other servers
            pids = {await conn.fetchval("SELECT pg_backend_pid()") for _ in range(50)}
        assert len(pids) >= 1
    finally:
        await db.close()


async def test_racing_migrators_through_pgbouncer_apply_each_once(
    bouncer: PgBouncer, postgres_server_url: str, database: str
) -> None:
    direct = with_database(postgres_server_url, database)
    urls = [bouncer.url(database)] * 4 + [direct] * 2
    results = await asyncio.gather(*(apply_migrations(url) for url in urls))
    applied = sorted(m.version for result in results for m in result)
    assert applied == [m.version for m in discover()]
    assert sum(1 for result in results if result) == 1, "one migrator applied them all"


async def test_the_migration_lock_holds_across_pooled_connections(
    bouncer: PgBouncer, database: str, tmp_path: Path
) -> None:
    """A migrator waits for a transaction that holds the lock, whatever server it is on."""
    url = bouncer.url(database)
    (tmp_path / "0001_t.sql").write_text("CREATE TABLE t (x int);")
    holder = await plain(url)
    watcher = await plain(url)
    try:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        migrating = asyncio.create_task(apply_migrations(url, directory=tmp_path))

        async def waiting_for_the_lock() -> bool:
            return bool(
                await watcher.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )
            )

        await async_wait_until(waiting_for_the_lock, 10, "the migrator to wait for the lock")
        assert not migrating.done()
        await transaction.commit()
        assert [m.version for m in await asyncio.wait_for(migrating, 10)] == [1]
    finally:
        await holder.close()
        await watcher.close()


async def test_submissions_profiles_rebuilds_and_keys_through_pgbouncer(
    through: Through, redis: AnyRedis, redis_key_prefix: str
) -> None:
    http = through.http
    board_id = await create_board(http)
    players = [p for p, _ in await insert_players(through.url, 120)]

    # Concurrent submissions share statements (group commit) on a 4-connection pool.
    answers = await asyncio.gather(*(submit(http, board_id, p, i) for i, p in enumerate(players)))
    assert {a["rank"] for a in answers} <= set(range(1, 121))
    page = await top(http, board_id)
    assert [e["score"] for e in page["entries"]] == list(range(119, -1, -1))

    # A repeat with the same Idempotency-Key, sent concurrently, counts once.
    player = players[0]
    headers = {**ADMIN, "Idempotency-Key": f"k-{uuid.uuid4()}"}
    sum_board = await create_board(http, operator="sum")
    repeats = await asyncio.gather(
        *(
            http.post(
                f"/v1/leaderboards/{sum_board}/scores",
                json={"score": 5, "player_id": player},
                headers=headers,
            )
            for _ in range(8)
        )
    )
    # (409: "being processed", while the first is in flight; the contract allows it.)
    assert {r.status_code for r in repeats} <= {200, 409}
    first = [r for r in repeats if r.status_code == 200 and "Idempotent-Replayed" not in r.headers]
    assert len(first) == 1
    assert (await top(http, sum_board))["entries"][0]["score"] == 5

    # A profile write, then a read that misses the cache, sees it.
    response = await http.patch(
        f"/v1/players/{player}", json={"display_name": "Bounced"}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    await redis.delete(f"{redis_key_prefix}player:{{{player}}}:profile")
    assert (await http.get(f"/v1/players/{player}")).json()["display_name"] == "Bounced"

    # A lost index is rebuilt through the pooler (one snapshot, a cursor in a transaction).
    async for key in redis.scan_iter(match=f"{redis_key_prefix}lb:{{{board_id}}}:*"):
        await redis.delete(key)

    def ranking(page: dict[str, Any]) -> list[tuple[int, str, int]]:
        return [(e["rank"], e["player_id"], e["score"]) for e in page["entries"]]

    rebuilds = through.services.get(RankIndex).rebuilds
    assert ranking(await top(http, board_id)) == ranking(page)
    assert through.services.get(RankIndex).rebuilds == rebuilds + 1


async def test_retention_through_pgbouncer(through: Through) -> None:
    """The retention lease and its batches are single statements or short transactions."""
    response = await through.http.post(
        "/v1/leaderboards",
        json={"id": f"r-{secrets.token_hex(4)}", "reset": "daily", "keep_periods": 1},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    report = await through.services.get(RetentionJob).run_once()
    assert report.leased


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ("auto", None)),
        ({"LEADERBOARD_DATABASE_POOLER": "transaction"}, ("transaction", None)),
        (
            {"LEADERBOARD_DATABASE_REPLICA_URL": "postgresql://r.example:5432/lb"},
            ("auto", "postgresql://r.example:5432/lb"),
        ),
    ],
)
def test_the_postgres_settings(env: dict[str, str], expected: tuple[str, str | None]) -> None:
    settings = Settings.from_env(env)
    assert (settings.database_pooler, settings.database_replica_url) == expected


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("LEADERBOARD_DATABASE_POOLER", "session", "Invalid enum value"),
        ("LEADERBOARD_DATABASE_REPLICA_URL", "mysql://r/x", "postgresql://"),
        ("LEADERBOARD_RETENTION_CHECK_SECONDS", "0", ">= 1"),
    ],
)
def test_a_wrong_postgres_setting_names_its_variable(
    variable: str, value: str, expected: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    assert str(caught.value).startswith(f"{variable}: ")
    assert expected in str(caught.value)


async def test_a_hung_server_at_start_costs_one_attempt_for_all_callers() -> None:
    """``auto`` asks the server first; callers meanwhile share that one attempt."""
    accepted: list[asyncio.StreamWriter] = []

    async def hang(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # never answers the start-up message

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    db = Database(f"postgresql://postgres@127.0.0.1:{port}/x", timeout=0.5)
    try:
        await db.open()  # does not fail: the service starts while Postgres is away
        started = time.monotonic()
        outcomes = await asyncio.gather(
            *(db.fetchval("SELECT 1") for _ in range(8)), return_exceptions=True
        )
        assert all(isinstance(o, DependencyUnavailableError) for o in outcomes), outcomes
        assert time.monotonic() - started < 2.5, "one attempt, not eight in a row"
        assert len(accepted) <= 3  # open()'s attempt, the shared one (and a straggler)
    finally:
        await db.close()
        server.close()
        for writer in accepted:
            writer.close()
        await server.wait_closed()
