"""Leagues with several workers: two app instances over one Postgres and one Redis (a
single node or a cluster), each in the test's event loop so requests really race."""

from __future__ import annotations

import asyncio
import collections
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest

from leaderboard.events.hub import EventHub
from leaderboard.events.models import ZoneChanged
from leaderboard.events.topics import league_topic
from leaderboard.leagues.seasons import SeasonCloser
from leaderboard.lib.clock import MovableClock
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from tests.helpers import async_wait_until
from tests.league_helpers import create_league, services_of, submit, workers
from tests.scores_helpers import insert_players

pytestmark = pytest.mark.redis_modes


async def cohort_sizes(database_url: str, league_id: str) -> dict[tuple[int, int], int]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT tier, cohort, count(*) AS n FROM league_members WHERE league_id = $1 "
            "GROUP BY tier, cohort",
            league_id,
        )
    finally:
        await conn.close()
    return {(row["tier"], row["cohort"]): row["n"] for row in rows}


async def test_a_thousand_first_submissions_to_one_tier_fill_cohorts_exactly(
    settings: Settings, redis: AnyRedis, clock: MovableClock, database_url: str
) -> None:
    """1,000 players join one tier at once through two workers: no cohort holds more than
    its size, and at most one of the tier is not full."""
    players = [p for p, _ in await insert_players(database_url, 1000)]
    async with workers(settings, clock) as (_, http):
        league = await create_league(http[0], cohort_size=30)

        async def join(i: int) -> dict[str, Any]:
            return await submit(http[i % 2], league["id"], players[i], i)

        answers = await asyncio.gather(*(join(i) for i in range(1000)))
        sizes = await cohort_sizes(database_url, league["id"])
        assert sum(sizes.values()) == 1000
        assert max(sizes.values()) == 30
        assert sorted(sizes) == [(1, n) for n in range(1, 35)]  # 33 full cohorts and one
        assert [size for size in sizes.values() if size < 30] == [10]
        assert all(answer["members"] <= 30 for answer in answers)
        # Each cohort's index holds what Postgres holds.
        for (tier, number), size in list(sizes.items())[:5]:
            page = (
                await http[1].get(f"/v1/leagues/{league['id']}/cohorts/1-{tier}-{number}")
            ).json()
            assert len(page["entries"]) == size


async def test_zone_changes_reach_the_subscribers_of_every_worker(
    settings: Settings, redis: AnyRedis, clock: MovableClock, database_url: str
) -> None:
    (a, _), (b, _), (c, _) = await insert_players(database_url, 3)
    async with workers(settings, clock) as (apps, http):
        league = await create_league(http[0], cohort_size=5)  # Bronze promotes 2
        hubs = [services_of(app).get(EventHub) for app in apps]
        topic = league_topic(Keys(settings.redis_key_prefix), league["id"])
        with hubs[0].subscribe(topic) as first, hubs[1].subscribe(topic) as second:
            assert await hubs[0].wait_connected(topic)
            assert await hubs[1].wait_connected(topic)
            await submit(http[0], league["id"], a, 10)
            await submit(http[1], league["id"], b, 20)
            await submit(http[0], league["id"], c, 30)  # pushes a out of the promotion zone
            for subscription in (first, second):
                seen: list[tuple[str, str, str | None, int]] = []
                for _ in range(4):
                    message = await subscription.next(timeout=5)
                    assert message is not None, seen
                    event = msgspec.json.decode(message, type=ZoneChanged)
                    seen.append((event.player_id, event.zone, event.previous_zone, event.rank))
                assert seen == [
                    (a, "promote", None, 1),
                    (b, "promote", None, 1),
                    (c, "promote", None, 1),
                    (a, "stay", "promote", 3),
                ]


async def test_two_workers_close_a_due_season_once(
    settings: Settings,
    redis: AnyRedis,
    clock: MovableClock,
    database_url: str,
    redis_key_prefix: str,
) -> None:
    quiet = msgspec.structs.replace(settings, league_check_seconds=3600)  # rounds run by hand
    players = [p for p, _ in await insert_players(database_url, 40)]
    async with workers(quiet, clock) as (apps, http):
        league = await create_league(http[0], cohort_size=7)
        for i, player in enumerate(players):
            await submit(http[i % 2], league["id"], player, i)
        clock.set(datetime.fromisoformat(league["season_ends_at"]) + timedelta(seconds=5))
        closers = [services_of(app).get(SeasonCloser) for app in apps]
        reports = await asyncio.gather(*(closer.run_once() for closer in closers))
        # Other tests' leagues in this database may be due too: only this one counts.
        ours = [[c for c in report.closed if c[0] == league["id"]] for report in reports]
        assert sorted(ours) == [[], [(league["id"], 1)]]
        conn = await asyncpg.connect(database_url)
        try:
            results = await conn.fetchval(
                "SELECT count(*) FROM league_results WHERE league_id = $1", league["id"]
            )
            closes = await conn.fetchval(
                "SELECT count(*) FROM league_closes "
                "WHERE league_id = $1 AND finished_at IS NOT NULL",
                league["id"],
            )
        finally:
            await conn.close()
        assert (results, closes) == (40, 1)
        entries: list[tuple[str, dict[str, str]]] = await redis.xrange(  # type: ignore[assignment]
            Keys(redis_key_prefix).league_events_stream(league["id"])
        )
        ended = collections.Counter(
            json["player_id"]
            for json in (msgspec.json.decode(f["event"]) for _, f in entries)
            if json["type"] == "season_ended"
        )
        assert ended == dict.fromkeys(players, 1)


async def test_the_close_job_closes_a_season_at_its_end_by_itself(
    settings: Settings, redis: AnyRedis, clock: MovableClock, database_url: str
) -> None:
    busy = msgspec.structs.replace(settings, league_check_seconds=0.2)
    (player, _), *_ = await insert_players(database_url, 1)
    async with workers(busy, clock) as (_, http):
        league = await create_league(http[0], schedule="daily")
        await submit(http[0], league["id"], player, 5)
        clock.set(datetime.fromisoformat(league["season_ends_at"]) + timedelta(seconds=1))

        async def closed() -> bool:
            response = await http[1].get(f"/v1/leagues/{league['id']}/players/{player}/seasons")
            return bool(response.json()["seasons"])

        await async_wait_until(closed, 10, "the job to close the season")
        assert (await http[0].get(f"/v1/leagues/{league['id']}")).json()["season"] == 2
