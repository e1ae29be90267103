"""``scores`` partitioned by board (hash) and by the month of the period.

The migration is staged (db/pending/scores_partitioned.sql; tests/partitioning.py says
why): here a database is filled through the current schema, converted, compared row by
row, and then used: submissions (group commit, ON CONFLICT, concurrency), foreign keys,
rebuilds (one partition scanned), month partitions made ahead and late rows moved out of
a default partition while writes go on, and retention dropping whole months.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar

from leaderboard.boards.periods import period_key
from leaderboard.boards.service import BoardService
from leaderboard.lib.clock import MovableClock
from leaderboard.lib.features import Services
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from leaderboard.ops.migrations import apply_migrations
from leaderboard.ranking.index import RankIndex
from leaderboard.scores.partitions import BUCKETS, MonthPartition, month_of
from leaderboard.scores.retention import RetentionJob
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.calendar import noon
from tests.conftest import ADMIN, running
from tests.helpers import async_wait_until
from tests.partitioning import with_partitioning
from tests.scores_helpers import insert_players, new_board_id

HIGH_LIMIT = {"limit": 10_000, "window_seconds": 1}
COLUMNS = (
    "leaderboard_id, period_start, player_id, score, reached_seq, reached_at, submissions, "
    "metadata, updated_at, previous_score, hidden"
)
# What a rebuild runs (ranking/records.py stream).
STREAM = """
    SELECT player_id::text, score, reached_seq FROM scores
     WHERE leaderboard_id = $1 AND period_start = $2 AND NOT hidden
"""


class World(msgspec.Struct):
    http: httpx.AsyncClient
    app: Litestar
    clock: MovableClock
    url: str
    keys: Keys

    @property
    def services(self) -> Services:
        return self.app.plugins.get(InfrastructurePlugin).services

    async def board(self, **spec: Any) -> str:
        board_id = new_board_id()
        response = await self.http.post(
            "/v1/leaderboards",
            json={"id": board_id, "rate_limit": HIGH_LIMIT, **spec},
            headers=ADMIN,
        )
        assert response.status_code == 201, response.text
        return board_id

    async def submit(self, board_id: str, player_id: str, score: int, **extra: Any) -> Any:
        response = await self.http.post(
            f"/v1/leaderboards/{board_id}/scores",
            json={"score": score, "player_id": player_id, **extra.pop("body", {})},
            headers={**ADMIN, **extra.pop("headers", {})},
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def top(self, board_id: str, period: date | None = None) -> Any:
        params = {"period": period.isoformat()} if period else {}
        response = await self.http.get(f"/v1/leaderboards/{board_id}/top", params=params)
        assert response.status_code == 200, response.text
        return response.json()


@asynccontextmanager
async def world_on(
    settings: Settings, url: str, clock: MovableClock, redis_key_prefix: str
) -> AsyncIterator[World]:
    app = create_app(msgspec.structs.replace(settings, database_url=url), clock=clock)
    transport = httpx.ASGITransport(app=cast("Any", app))  # Litestar's own ASGI types
    async with (
        running(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http,
    ):
        yield World(http, app, clock, url, Keys(redis_key_prefix))


async def query(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url, statement_cache_size=0)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def every_row(url: str) -> list[tuple[Any, ...]]:
    rows = await query(url, f"SELECT {COLUMNS} FROM scores ORDER BY 1, 2, 3")  # noqa: S608
    return [tuple(row) for row in rows]


async def rows_in_defaults(url: str) -> int:
    rows = await query(
        url, "SELECT count(*) FROM scores WHERE tableoid::regclass::text LIKE '%\\_default'"
    )
    return int(rows[0][0])


async def forget_month(url: str, month: date) -> None:
    """Drop the (empty) partitions of ``month``, were the migration's today to have made them."""
    for bucket in range(BUCKETS):
        await query(url, f'DROP TABLE IF EXISTS "{MonthPartition(bucket, month).name}"')


async def bucket_of(url: str, board_id: str) -> int:
    rows = await query(
        url,
        "SELECT b FROM generate_series(0, $2 - 1) b "
        "WHERE satisfies_hash_partition('scores'::regclass, $2, b, $1::text)",
        board_id,
        BUCKETS,
    )
    return int(rows[0][0])


@pytest.fixture
async def partitioned(fresh_database_url: str, tmp_path: Path) -> str:
    """A database migrated up to the partitioned schema."""
    await apply_migrations(fresh_database_url, directory=with_partitioning(tmp_path / "m"))
    return fresh_database_url


@pytest.mark.calendar
async def test_the_conversion_keeps_every_row(
    calendar_day: date,
    fresh_database_url: str,
    settings: Settings,
    redis: AnyRedis,
    redis_key_prefix: str,
    tmp_path: Path,
) -> None:
    url = fresh_database_url
    await apply_migrations(url)  # the schema of today
    clock = MovableClock(noon(calendar_day))
    players = [p for p, _ in await insert_players(url, 40)]
    async with world_on(settings, url, clock, redis_key_prefix) as world:
        boards = [
            await world.board(reset="daily"),
            await world.board(reset="weekly", operator="sum"),
            await world.board(reset="monthly", operator="latest", order="asc"),
            await world.board(reset="never"),
        ]
        for day in range(3):  # through the API: group commit, concurrent, over three days
            clock.set(noon(calendar_day + timedelta(days=day)))
            await asyncio.gather(
                *(
                    world.submit(board_id, p, i * 7 + day, body={"metadata": {"d": day}})
                    for board_id in boards
                    for i, p in enumerate(players)
                )
            )
        ban = await world.http.post(f"/v1/players/{players[0]}/ban", headers=ADMIN)
        assert ban.status_code == 204, ban.text
    # Old months of the daily board, as years of history would hold them.
    await query(
        url,
        f"""
        INSERT INTO scores ({COLUMNS})
        SELECT $1, d::date, p.id, 100 + n, nextval('score_reached_seq'), now(), 1,
               '{{"old": true}}'::jsonb, now(), NULL, false
          FROM generate_series('2025-01-01'::date, '2025-03-31'::date, '9 days') d,
               (SELECT id, row_number() OVER () AS n FROM players) p
        """,  # noqa: S608 - a constant column list
        boards[0],
    )
    before = await every_row(url)
    assert len(before) > 40 * 10

    applied = await apply_migrations(url, directory=with_partitioning(tmp_path / "m"))
    assert [m.name for m in applied] == ["scores_partitioned"]
    assert await every_row(url) == before
    assert await rows_in_defaults(url) == 0, "every month with rows has its partition"
    kinds = await query(url, "SELECT relkind::text FROM pg_class WHERE relname = 'scores'")
    assert kinds[0]["relkind"] == "p"
    top_seq = max(row[4] for row in before)
    next_seq = await query(url, "SELECT nextval('score_reached_seq')")
    assert next_seq[0][0] > top_seq


async def test_the_service_on_partitioned_scores(
    partitioned: str,
    settings: Settings,
    redis: AnyRedis,
    redis_key_prefix: str,
    clock: MovableClock,
) -> None:
    players = [p for p, _ in await insert_players(partitioned, 100)]
    async with world_on(settings, partitioned, clock, redis_key_prefix) as world:
        daily = await world.board(reset="daily")
        sums = await world.board(operator="sum")

        # Group commit, concurrent, then ON CONFLICT updates of the same rows.
        await asyncio.gather(*(world.submit(daily, p, i) for i, p in enumerate(players)))
        again = await asyncio.gather(
            *(world.submit(daily, p, 50) for p in players[:60])  # better for 0…49 only
        )
        assert [a["changed"] for a in again] == [True] * 50 + [False] * 10
        assert [a["previous_score"] for a in again[:3]] == [0, 1, 2]
        page = await world.top(daily)
        assert page["total"] == 100
        stored = await query(
            partitioned,
            "SELECT player_id::text, score FROM scores WHERE leaderboard_id = $1",
            daily,
        )
        assert {r["player_id"]: r["score"] for r in stored} == {
            p: max(i, 50) if i < 60 else i for i, p in enumerate(players)
        }

        # A keyed repeat counts once.
        keyed = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
        for _ in range(3):
            await world.submit(sums, players[0], 5, headers=keyed)
        assert (await world.top(sums))["entries"][0]["score"] == 5

        # A rebuild reads the same ranking back.
        async for key in redis.scan_iter(match=world.keys.board_pattern(daily)):
            await redis.delete(key)
        assert (await world.top(daily))["entries"] == page["entries"]

        # Foreign keys: a deleted player leaves no row in any partition, nor a board.
        gone = players[-1]
        assert (await world.http.delete(f"/v1/players/{gone}", headers=ADMIN)).status_code == 204
        left = await query(partitioned, "SELECT count(*) FROM scores WHERE player_id = $1", gone)
        assert left[0][0] == 0
        unknown = await world.http.post(
            f"/v1/leaderboards/{daily}/scores",
            json={"score": 1, "player_id": str(uuid.uuid4())},
            headers=ADMIN,
        )
        assert unknown.status_code == 404, unknown.text
        deleted = await world.http.delete(f"/v1/leaderboards/{sums}", headers=ADMIN)
        assert deleted.status_code == 204, deleted.text
        left = await query(
            partitioned, "SELECT count(*) FROM scores WHERE leaderboard_id = $1", sums
        )
        assert left[0][0] == 0
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await query(
            partitioned,
            f"INSERT INTO scores ({COLUMNS}) VALUES ('no-such-board', '1970-01-01', $1, 1, 1, "  # noqa: S608
            "now(), 1, NULL, now(), NULL, false)",
            uuid.UUID(players[0]),
        )


@pytest.mark.calendar
async def test_a_rebuild_scans_one_partition(partitioned: str, calendar_day: date) -> None:
    board_id = new_board_id()
    bucket = await bucket_of(partitioned, board_id)
    await query(partitioned, "SELECT scores_ensure_month($1, $2)", bucket, month_of(calendar_day))
    for day in (calendar_day, date(1970, 1, 1)):
        plan = await query(partitioned, "EXPLAIN (FORMAT JSON) " + STREAM, board_id, day)
        scanned = set(_relations(plan[0][0]))
        assert len(scanned) == 1, scanned
        (leaf,) = scanned
        suffix = "alltime" if day.year == 1970 else f"{day:%Y%m}"
        assert leaf == f"scores_h{bucket}_{suffix}"


def _relations(plan: Any) -> list[str]:
    nodes = json.loads(plan) if isinstance(plan, str) else plan
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "Relation Name" in node:
                found.append(node["Relation Name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(nodes)
    return found


@pytest.mark.calendar
async def test_a_month_is_made_ahead_and_late_rows_move_while_writes_go_on(
    partitioned: str,
    settings: Settings,
    redis: AnyRedis,
    redis_key_prefix: str,
    calendar_day: date,
) -> None:
    # A month without a partition yet (the migration made the months of Postgres' today).
    later = calendar_day + timedelta(days=95)
    await forget_month(partitioned, month_of(later))
    clock = MovableClock(noon(later))
    players = [p for p, _ in await insert_players(partitioned, 150)]
    async with world_on(settings, partitioned, clock, redis_key_prefix) as world:
        board_id = await world.board(reset="daily")
        await asyncio.gather(*(world.submit(board_id, p, i) for i, p in enumerate(players[:50])))
        assert await rows_in_defaults(partitioned) == 50, "no partition yet: the default"

        async def moved() -> bool:
            await world.services.get(RetentionJob).run_once()
            return await rows_in_defaults(partitioned) == 0

        # The move runs while submissions for the same period keep coming.
        writes = asyncio.gather(
            *(world.submit(board_id, p, i) for i, p in enumerate(players[50:], start=50))
        )
        await async_wait_until(moved, 30, "the late rows to move into their partition")
        await writes
        assert await rows_in_defaults(partitioned) == 0
        where = await query(
            partitioned,
            "SELECT DISTINCT tableoid::regclass::text AS leaf FROM scores "
            "WHERE leaderboard_id = $1",
            board_id,
        )
        bucket = await bucket_of(partitioned, board_id)
        assert [r["leaf"] for r in where] == [MonthPartition(bucket, month_of(later)).name]
        assert (await world.top(board_id))["total"] == 150
        report = await world.services.get(RetentionJob).run_once()
        assert report.partitions_made == [], "made once"


@pytest.mark.calendar
async def test_old_months_go_whole_when_every_period_in_them_is_past_its_window(
    partitioned: str,
    settings: Settings,
    redis: AnyRedis,
    redis_key_prefix: str,
    calendar_day: date,
) -> None:
    today = calendar_day
    old = month_of(today - timedelta(days=120))
    older = month_of(old - timedelta(days=1))
    for bucket in range(BUCKETS):  # as the migration makes them for months with rows
        for month in (older, old):
            await query(partitioned, "SELECT scores_ensure_month($1, $2)", bucket, month)
    clock = MovableClock(noon(today))
    players = [p for p, _ in await insert_players(partitioned, 20)]
    async with world_on(settings, partitioned, clock, redis_key_prefix) as world:
        kept = await world.board(reset="daily", keep_periods=3)
        bucket = await bucket_of(partitioned, kept)
        # A board without retention in the same bucket keeps `older` from going whole.
        for _ in range(50 * BUCKETS):  # a random id hashes into it 1 time in BUCKETS
            neighbour = await world.board(reset="daily")
            if await bucket_of(partitioned, neighbour) == bucket:
                break
        else:
            pytest.fail(f"no board id hashed into bucket {bucket}")
        # Both boards existed back then (reads of periods before a board was made are
        # answered without an index).
        await query(
            partitioned,
            "UPDATE leaderboards SET created_at = $2 WHERE id = ANY($1::text[])",
            [kept, neighbour],
            datetime.combine(older, time(), UTC),
        )
        for key in (world.keys.board_config(kept), world.keys.board_config(neighbour)):
            await redis.delete(key)  # no worker has read either board since it was made
        periods = {older: [older, older + timedelta(days=3)], old: [old, old + timedelta(5)]}
        for month, days in periods.items():
            for day in days:
                await query(
                    partitioned,
                    f"""
                    INSERT INTO scores ({COLUMNS})
                    SELECT b, $2::date, p, n, nextval('score_reached_seq'), now(), 1, NULL,
                           now(), NULL, false
                      FROM unnest($3::uuid[]) WITH ORDINALITY AS t(p, n), unnest($1::text[]) b
                    """,  # noqa: S608 - a constant column list
                    [kept] if month == old else [kept, neighbour],
                    day,
                    players,
                )
        await world.submit(kept, players[0], 1)  # today's period
        # The old periods' indexes are in Redis (built as they were when those periods were
        # read; a read now answers them as past the window without building anything).
        board = await world.services.get(BoardService).get(kept)
        for day in periods[old]:
            assert (await world.top(kept, day))["total"] == 0, "outside keep_periods"
            await world.services.get(RankIndex).ensure_ready(board, day)
            assert await redis.zcard(world.keys.index(kept, period_key(day)).scores) == 20

        report = await world.services.get(RetentionJob).run_once()
        whole = MonthPartition(bucket, old)
        assert whole in report.partitions_dropped
        assert MonthPartition(bucket, older) not in report.partitions_dropped
        assert sorted(report.dropped[kept]) == sorted(periods[old] + periods[older])
        for day in periods[old]:
            index = world.keys.index(kept, period_key(day))
            assert await redis.exists(index.scores, index.ready) == 0
            assert (await world.top(kept, day))["total"] == 0, "nothing recorded"
        remaining = await query(
            partitioned,
            "SELECT leaderboard_id, count(*) AS n FROM scores WHERE period_start < $1 GROUP BY 1",
            today,
        )
        assert {r["leaderboard_id"]: r["n"] for r in remaining} == {neighbour: 40}
        assert (await world.top(kept))["total"] == 1
        exists = await query(partitioned, "SELECT to_regclass($1) IS NOT NULL", whole.name)
        assert exists[0][0] is False


async def test_racing_month_makers_make_it_once(partitioned: str) -> None:
    month = date(2030, 7, 1)
    await forget_month(partitioned, month)
    conns = [await asyncpg.connect(partitioned, statement_cache_size=0) for _ in range(4)]
    try:
        outcomes = await asyncio.gather(
            *(c.fetchval("SELECT scores_ensure_month(3, $1)", month) for c in conns),
            return_exceptions=True,
        )
    finally:
        for conn in conns:
            await conn.close()
    made = [o for o in outcomes if o is True]
    assert len(made) == 1, outcomes
    for outcome in outcomes:  # the others found it made, or gave up waiting for the lock
        assert (
            outcome is False
            or outcome is True
            or isinstance(outcome, asyncpg.LockNotAvailableError)
        ), outcome
    name = MonthPartition(3, month).name
    assert (await query(partitioned, "SELECT to_regclass($1) IS NOT NULL", name))[0][0]
