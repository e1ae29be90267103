"""Retention: ``keep_periods`` on resetting boards, and the job that drops older periods.

Periods are filled through the API on a clock the test moves from day to day; the job
(leaderboard/scores/retention.py) then removes the periods before the kept window from
Postgres and from Redis, one worker at a time, and a dropped period reads as nothing
recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.boards.models import Board, RateLimitConfig
from leaderboard.boards.periods import oldest_kept, period_key
from leaderboard.boards.service import BoardService
from leaderboard.lib.clock import MovableClock
from leaderboard.lib.features import Services
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from leaderboard.ranking.index import RankIndex
from leaderboard.scores.retention import LEASE, RetentionJob
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.conftest import ADMIN, running
from tests.scores_helpers import create_board, insert_players, new_board_id

HIGH_LIMIT = {"limit": 10_000, "window_seconds": 1}


class World(msgspec.Struct):
    http: httpx.AsyncClient
    app: Litestar
    clock: MovableClock
    keys: Keys

    @property
    def services(self) -> Services:
        return self.app.plugins.get(InfrastructurePlugin).services

    @property
    def job(self) -> RetentionJob:
        return self.services.get(RetentionJob)


@pytest.fixture
async def world(
    settings: Settings, redis: AnyRedis, redis_key_prefix: str, clock: MovableClock
) -> AsyncIterator[World]:
    # Noon of the test's day (tests/calendar.py); the test moves the days on.
    app = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=cast("Any", app))
    async with (
        running(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http,
    ):
        yield World(http, app, clock, Keys(redis_key_prefix))


async def fill_days(
    world: World, database_url: str, board_id: str, days: int, per_day: int
) -> dict[date, list[str]]:
    """``per_day`` players score on each of ``days`` days (days 0 … days-1), through the API."""
    players = [p for p, _ in await insert_players(database_url, per_day * days)]
    filled: dict[date, list[str]] = {}
    start = world.clock()
    for n in range(days):
        world.clock.set(start + timedelta(days=n))
        today = players[n * per_day : (n + 1) * per_day]
        for score, player_id in enumerate(today):
            response = await world.http.post(
                f"/v1/leaderboards/{board_id}/scores",
                json={"score": score, "player_id": player_id},
                headers=ADMIN,
            )
            assert response.status_code == 200, response.text
        filled[world.clock().date()] = today
    return filled


async def top(world: World, board_id: str, period: date) -> dict[str, Any]:
    response = await world.http.get(
        f"/v1/leaderboards/{board_id}/top", params={"period": period.isoformat()}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def rows_by_period(database_url: str, board_id: str) -> dict[date, int]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT period_start, count(*) AS n FROM scores WHERE leaderboard_id = $1 "
            "GROUP BY period_start",
            board_id,
        )
    finally:
        await conn.close()
    return {row["period_start"]: row["n"] for row in rows}


@pytest.mark.parametrize(
    ("spec", "status"),
    [
        ({"reset": "never", "keep_periods": 3}, 400),
        ({"reset": "daily", "keep_periods": 0}, 400),
        ({"reset": "daily", "keep_periods": "all"}, 400),
        ({"reset": "daily", "keep_periods": 100_001}, 400),
        ({"reset": "weekly", "keep_periods": 4}, 201),
        ({"reset": "monthly"}, 201),
    ],
)
async def test_keep_periods_is_for_resetting_boards_and_400_names_it(
    client: AsyncTestClient[Litestar], spec: dict[str, Any], status: int
) -> None:
    board_id = new_board_id()
    response = await client.post("/v1/leaderboards", json={"id": board_id, **spec}, headers=ADMIN)
    assert response.status_code == status, response.text
    if status == 400:
        assert "keep_periods" in response.json()["detail"]
        return
    assert response.json()["keep_periods"] == spec.get("keep_periods")
    read = await client.get(f"/v1/leaderboards/{board_id}")
    assert read.json()["keep_periods"] == spec.get("keep_periods")


def test_the_kept_window_counts_the_current_period() -> None:
    def board(reset: str, keep: int | None) -> Board:
        return Board(
            id="b", name="b", order="desc", operator="best", reset=reset,  # type: ignore[arg-type]
            rate_limit=RateLimitConfig(), metadata={}, created_at=datetime.now(UTC),
            keep_periods=keep,
        )  # fmt: skip

    wednesday = date(2026, 11, 25)
    assert oldest_kept(board("daily", 1), wednesday) == wednesday
    assert oldest_kept(board("daily", 3), wednesday) == date(2026, 11, 23)
    assert oldest_kept(board("weekly", 2), wednesday) == date(2026, 11, 16)
    assert oldest_kept(board("monthly", 3), date(2026, 1, 31)) == date(2025, 11, 1)
    assert oldest_kept(board("daily", 2), date(2024, 3, 1)) == date(2024, 2, 29)
    assert oldest_kept(board("daily", 2), date(2026, 1, 1)) == date(2025, 12, 31)
    assert oldest_kept(board("weekly", 2), date(2026, 1, 1)) == date(2025, 12, 22)
    assert oldest_kept(board("monthly", 1), date(2024, 2, 29)) == date(2024, 2, 1)
    assert oldest_kept(board("monthly", 2), date(2026, 3, 1)) == date(2026, 2, 1)
    assert oldest_kept(board("daily", None), wednesday) is None
    assert oldest_kept(board("never", None), wednesday) is None


@pytest.mark.calendar
async def test_old_periods_are_dropped_and_read_as_nothing_recorded(
    world: World, database_url: str, redis: AnyRedis
) -> None:
    board_id = await create_board(world.http, reset="daily", keep_periods=2)
    kept_forever = await create_board(world.http, reset="daily")
    start = world.clock()
    await fill_days(world, database_url, kept_forever, days=2, per_day=3)
    world.clock.set(start)
    filled = await fill_days(world, database_url, board_id, days=5, per_day=6)
    days = sorted(filled)  # the clock is on the last of them
    for day in days:  # every period's index is in Redis
        index = world.keys.index(board_id, period_key(day))
        assert await redis.zcard(index.scores) == 6
    for day in days[:3]:  # past the window: read as nothing before the job has run
        page = await top(world, board_id, day)
        assert (page["total"], page["entries"]) == (0, []), "outside keep_periods"
    for day in days[3:]:
        assert (await top(world, board_id, day))["total"] == 6

    report = await world.job.run_once()
    assert report.leased
    assert report.dropped[board_id] == days[:3]
    assert kept_forever not in report.dropped
    assert report.rows[board_id] == 18
    assert await rows_by_period(database_url, board_id) == {days[3]: 6, days[4]: 6}
    assert sum((await rows_by_period(database_url, kept_forever)).values()) == 6
    for day in days[:3]:
        index = world.keys.index(board_id, period_key(day))
        assert await redis.exists(index.scores, index.members, index.ready) == 0
        page = await top(world, board_id, day)
        assert (page["total"], page["entries"]) == (0, []), "nothing recorded"
        entry = await world.http.get(
            f"/v1/leaderboards/{board_id}/players/{filled[day][0]}",
            params={"period": day.isoformat()},
        )
        assert entry.status_code == 404
    for day in days[3:]:
        page = await top(world, board_id, day)
        assert [e["player_id"] for e in page["entries"]] == list(reversed(filled[day]))

    again = await world.job.run_once()
    assert board_id not in again.dropped
    assert board_id not in again.rows


async def test_rows_go_in_bounded_batches(world: World, database_url: str) -> None:
    board_id = await create_board(world.http, reset="daily", keep_periods=1)
    await fill_days(world, database_url, board_id, days=2, per_day=10)
    world.job.batch_size = 3
    report = await world.job.run_once()
    assert report.rows[board_id] == 10
    assert report.batches[board_id] == 4  # 3 + 3 + 3 + 1


async def test_a_period_being_rebuilt_waits_for_the_next_round(
    world: World, database_url: str
) -> None:
    board_id = await create_board(world.http, reset="daily", keep_periods=1)
    filled = await fill_days(world, database_url, board_id, days=2, per_day=4)
    old = min(filled)
    board = await world.services.get(BoardService).get(board_id)
    async with world.services.get(RankIndex).locked(board, old) as lock:
        assert lock is not None
        report = await world.job.run_once()
        assert (board_id, old) in report.busy
        assert board_id not in report.dropped
    assert (await rows_by_period(database_url, board_id))[old] == 4
    report = await world.job.run_once()
    assert report.dropped[board_id] == [old]


async def test_one_worker_at_a_time(
    world: World, settings: Settings, database_url: str, redis: AnyRedis
) -> None:
    board_id = await create_board(world.http, reset="daily", keep_periods=1)
    await fill_days(world, database_url, board_id, days=3, per_day=5)
    other_app = create_app(settings, clock=world.clock)
    async with running(other_app):
        other = other_app.plugins.get(InfrastructurePlugin).services.get(RetentionJob)
        # While one worker holds the lease the other does nothing.
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(
                "INSERT INTO maintenance_leases (name, holder, expires_at) "
                "VALUES ($1, 'someone-else', now() + interval '1 minute')",
                LEASE,
            )
            assert (await other.run_once()).leased is False
            assert (await world.job.run_once()).leased is False
            # A holder that died leaves a lease that expires.
            await conn.execute(
                "UPDATE maintenance_leases SET expires_at = now() - interval '1 second'"
            )
        finally:
            await conn.close()
        # Racing rounds: each period is dropped by exactly one of them.
        first, second = await asyncio.gather(world.job.run_once(), other.run_once())
    dropped = [p for r in (first, second) for p in r.dropped.get(board_id, [])]
    assert len(dropped) == 2 == len(set(dropped)), "each period dropped once"
    assert first.rows.get(board_id, 0) + second.rows.get(board_id, 0) == 10
    assert len(await rows_by_period(database_url, board_id)) == 1
