"""Postgres deployment modes, measured: `uv run python -m bench.pg_modes [--quick]`.

1. upserts: C concurrent group-commit statements (the service's own, B rows each) for T
   seconds, straight to Postgres and through PgBouncer (transaction mode, started here);
2. rebuild: a 1 M-entry board rebuilt into Redis from a streaming replica and from the
   primary (a pair of embedded Postgres started here), with the primary's CPU time;
3. size: bytes per `scores` row (table and indexes) of a daily board, and what a year of
   100 k players a day takes with and without retention;
4. partitions: the staged partitioning migration's copy rate, and the group-commit
   statement's time on the partitioned table (with the one change it needs first).

Postgres: LEADERBOARD_BENCH_DATABASE_URL (a superuser URL; default the machine's
postgresql://postgres@127.0.0.1:5432/test), in a database of its own that it drops.
Redis: LEADERBOARD_BENCH_REDIS_URL (default redis://127.0.0.1:6379/15), keys under a
random prefix that it deletes. docs/postgres.md quotes a run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import psutil
from redis.asyncio import Redis

from leaderboard.boards.periods import ALL_TIME
from leaderboard.boards.repository import BoardRepository
from leaderboard.lib.db import Database
from leaderboard.lib.keys import Keys
from leaderboard.lib.replica import ReadReplica
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.ops.migrations import apply_migrations
from leaderboard.ranking.locator import IndexLocator
from leaderboard.ranking.rebuild import Rebuilder
from leaderboard.ranking.records import ScoreRecords
from leaderboard.ranking.scripts import IndexScripts
from leaderboard.scores.upsert_sql import UPSERTS, UpsertRow, upsert_arrays
from tests.partitioning import with_partitioning
from tests.pgbouncer import running_pgbouncer  # the same PgBouncer the tests start
from tests.streaming_replica import replayed, streaming_pair

SERVER = os.environ.get(
    "LEADERBOARD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("LEADERBOARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + f"/{name}"


@asynccontextmanager
async def scratch_database(server: str) -> AsyncIterator[str]:
    name = f"pg_modes_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(server)
    await conn.execute(f"CREATE DATABASE {name}")
    await conn.close()
    try:
        url = with_database(server, name)
        await apply_migrations(url)
        yield url
    finally:
        conn = await asyncpg.connect(server)
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.close()


async def fill(url: str, board: str, reset: str, players: int, period: date | None) -> None:
    """``players`` players, and one row each on ``board`` when ``period`` is given."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO leaderboards (id, name, sort_order, operator, reset, rate_limit, "
            "rate_window_seconds) VALUES ($1, $1, 'desc', 'best', $2, 10, 60)",
            board,
            reset,
        )
        await conn.execute(
            "INSERT INTO players (id, device_hash, display_name) "
            "SELECT gen_random_uuid(), sha256(i::text::bytea), 'Player-' || i "
            "FROM generate_series(1, $1) i",
            players,
        )
        if period is not None:
            await conn.execute(
                "INSERT INTO scores (leaderboard_id, period_start, player_id, score, "
                "reached_seq, reached_at, submissions) "
                "SELECT $1, $2, id, (random() * 1e6)::bigint, nextval('score_reached_seq'), "
                "now(), 1 + (random() * 4)::int FROM players",
                board,
                period,
            )
        await conn.execute("VACUUM ANALYZE scores")
    finally:
        await conn.close()


# -- 1. upserts -------------------------------------------------------------------------


async def upserts(url: str, label: str, seconds: float, clients: int, batch: int) -> str:
    db = Database(url, max_size=clients)
    await db.open()
    try:
        players = [str(r[0]) for r in await db.fetch("SELECT id FROM players")]
        sql = UPSERTS[("best", "desc")]
        latencies: list[float] = []
        rows = 0
        deadline = time.monotonic() + seconds

        async def client(seed: int) -> None:
            nonlocal rows
            rng = random.Random(seed)
            while time.monotonic() < deadline:
                chosen = rng.sample(players, batch)
                rows_in = [
                    UpsertRow(
                        board="bench", period=ALL_TIME, player=p, submitted=rng.randrange(10**6)
                    )
                    for p in chosen
                ]
                started = time.perf_counter()
                await db.fetch_write(sql, *upsert_arrays(rows_in))
                latencies.append(time.perf_counter() - started)
                rows += batch

        started = time.monotonic()
        await asyncio.gather(*(client(i) for i in range(clients)))
        elapsed = time.monotonic() - started
    finally:
        await db.close()
    return (
        f"| {label} (pooled: {db.pooled}) | {clients} × {batch} rows | "
        f"{len(latencies) / elapsed:,.0f} | {rows / elapsed:,.0f} | "
        f"{statistics.median(latencies) * 1000:.2f} ms |"
    )


async def measure_upserts(seconds: float) -> list[str]:
    lines = ["| path | statements in flight | statements/s | upserts/s | median |"]
    lines.append("|---|---|---|---|---|")
    async with scratch_database(SERVER) as url:
        await fill(url, "bench", "never", 50_000, None)
        with running_pgbouncer(SERVER, pool_size=16) as bouncer:
            pooled = bouncer.url(url.rsplit("/", 1)[1])
            for batch in (1, 64):
                for label, target in (("direct", url), ("PgBouncer", pooled)):
                    lines.append(await upserts(target, label, seconds, 16, batch))
    return lines


# -- 2. rebuild -------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """CPU time of a postmaster and its backends (a rebuild's backend exits with its pool)."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


async def rebuild_once(primary_url: str, replica_url: str | None, redis: Redis) -> float:
    primary = Database(primary_url, timeout=60)
    await primary.open()
    replica = Database(replica_url, timeout=60) if replica_url else None
    reads = ReadReplica(primary, replica)
    keys = Keys(f"pgmodes:{secrets.token_hex(4)}:")
    boards = BoardRepository(primary)
    try:
        board = await boards.get("bench")
        assert board is not None
        rebuilder = Rebuilder(
            redis,
            IndexScripts(ScriptPipeline(redis)),
            boards,
            ScoreRecords(primary, reads),
            IndexLocator(keys, lambda: datetime.now(UTC)),
        )
        started = time.monotonic()
        entries = await rebuilder.rebuild(board, ALL_TIME)
        elapsed = time.monotonic() - started
        assert entries == 1_000_000 or entries is not None
        assert reads.served["replica" if replica_url else "primary"] >= 1
    finally:
        async for key in redis.scan_iter(match=keys.pattern(), count=1000):
            await redis.unlink(key)
        await reads.close()
        await primary.close()
    return elapsed


async def measure_rebuild(entries: int) -> list[str]:
    lines = ["| rebuild read from | wall time | primary Postgres CPU |", "|---|---|---|"]
    redis = Redis.from_url(REDIS, protocol=2, decode_responses=True)
    with tempfile.TemporaryDirectory() as directory, streaming_pair(Path(directory)) as pair:
        async with scratch_database(pair.primary_url()) as url:
            await fill(url, "bench", "never", entries, ALL_TIME)
            name = url.rsplit("/", 1)[1]
            await replayed(pair.standby_url(name), url, timeout=600)
            assert pair.primary.pid is not None
            for label, replica in (("primary", None), ("replica", pair.standby_url(name))):
                for _ in range(2):  # the second run reads warm caches: the one reported
                    before = cpu_seconds(pair.primary.pid)
                    elapsed = await rebuild_once(url, replica, redis)
                    used = cpu_seconds(pair.primary.pid) - before
                lines.append(f"| {label} | {elapsed:.2f} s | {used:.2f} s |")
    await redis.aclose()
    return lines


# -- 3. size ----------------------------------------------------------------------------


async def measure_size(players: int) -> list[str]:
    async with scratch_database(SERVER) as url:
        await fill(url, "daily", "daily", players, date(2026, 11, 1))
        conn = await asyncpg.connect(url)
        try:
            table = await conn.fetchval("SELECT pg_table_size('scores')")
            indexes = await conn.fetchval("SELECT pg_indexes_size('scores')")
        finally:
            await conn.close()
    per_row = (table + indexes) / players
    year = per_row * 100_000 * 365
    kept = per_row * 100_000 * (7 + 1)  # 7 kept + the one being dropped
    return [
        f"- {players:,} rows of one period: table {table / players:.0f} B/row, "
        f"indexes {indexes / players:.0f} B/row, {per_row:.0f} B/row in all",
        f"- a year of a daily board, 100 k players a day (36.5 M rows): "
        f"{year / 2**30:.1f} GiB without retention",
        f"- with keep_periods 7: about {kept / 2**20:.0f} MiB (8 periods' rows; dropped "
        "partitions give the space back at once, deleted rows are reused after vacuum)",
    ]


# -- 4. partitions -----------------------------------------------------------------------


async def statement_ms(url: str, sql: str, *, named: bool, runs: int = 300) -> float:
    """Median time of one 20-row group-commit statement (unnamed: parsed each time)."""
    conn = await asyncpg.connect(url, statement_cache_size=100 if named else 0)
    try:
        players = [r[0] for r in await conn.fetch("SELECT id::text FROM players LIMIT 20")]
        times = []
        for i in range(runs):
            started = time.perf_counter()
            rows = [
                UpsertRow(board="daily", period=date.today(), player=player, submitted=i)
                for player in players
            ]
            await conn.fetch(sql, *upsert_arrays(rows))
            times.append(time.perf_counter() - started)
    finally:
        await conn.close()
    return statistics.median(times) * 1000


async def measure_partitions(rows: int) -> list[str]:
    sql = UPSERTS[("best", "desc")]
    lines = ["| scores | leaf partitions | statement, unnamed | statement, named |"]
    lines.append("|---|---|---|---|")
    async with scratch_database(SERVER) as url:
        await fill(url, "daily", "daily", rows, date(2026, 11, 1))
        for label in ("unpartitioned", "partitioned"):
            if label == "partitioned":
                with tempfile.TemporaryDirectory() as directory:
                    started = time.monotonic()
                    await apply_migrations(url, directory=with_partitioning(Path(directory)))
                    copy = time.monotonic() - started
            conn = await asyncpg.connect(url)
            leaves = await conn.fetchval(
                "SELECT count(*) FROM pg_partition_tree('scores') WHERE isleaf"
            )
            await conn.close()
            unnamed = await statement_ms(url, sql, named=False)
            named = await statement_ms(url, sql, named=True)
            lines.append(f"| {label} | {leaves} | {unnamed:.2f} ms | {named:.2f} ms |")
    lines.append(f"\nconverting {rows:,} rows took {copy:.1f} s ({rows / copy:,.0f} rows/s)")
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs")
    parser.add_argument("--only", choices=["upserts", "rebuild", "size", "partitions"])
    args = parser.parse_args()
    seconds, entries, players = (2.0, 50_000, 20_000) if args.quick else (10.0, 1_000_000, 100_000)
    sections: dict[str, Callable[[], Awaitable[list[str]]]] = {
        "upserts": lambda: measure_upserts(seconds),
        "rebuild": lambda: measure_rebuild(entries),
        "size": lambda: measure_size(players),
        "partitions": lambda: measure_partitions(entries),
    }
    for name, measure in sections.items():
        if args.only in (None, name):
            print(f"\n## {name}\n")
            print("\n".join(await measure()), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
