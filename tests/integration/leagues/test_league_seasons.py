"""Seasons closing: tiers move, results and history, season_ended events, exactly once.

Against real Postgres and Redis (single node and cluster). The close's two steps are
also interrupted the way a dying worker interrupts them: its Postgres connection
terminated in the middle of the results' transaction, its follow-up cancelled between
two batches of events.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar

from leaderboard.events.models import SeasonEnded
from leaderboard.leagues import seasons as seasons_module
from leaderboard.leagues.schedule import next_season
from leaderboard.leagues.season_repository import SeasonRepository
from leaderboard.leagues.seasons import SeasonCloser
from leaderboard.leagues.service import LeagueService
from leaderboard.lib.clock import MovableClock
from leaderboard.lib.errors import DependencyUnavailableError
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from tests.conftest import ADMIN
from tests.helpers import async_wait_until
from tests.league_helpers import (
    cohort,
    create_league,
    end_season,
    services_of,
    submit,
    workers,
)
from tests.scores_helpers import insert_players

pytestmark = pytest.mark.redis_modes

Worker = tuple[Litestar, httpx.AsyncClient]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The close job runs when woken only: each test says when seasons close."""
    return msgspec.structs.replace(settings, league_check_seconds=3600)


@pytest.fixture
async def worker(settings: Settings, redis: AnyRedis, clock: MovableClock) -> AsyncIterator[Worker]:
    """One app in the test's event loop (the test reaches its services too), and a client."""
    async with workers(settings, clock, 1) as (apps, clients):
        yield apps[0], clients[0]


async def season_ended(redis: AnyRedis, prefix: str, league_id: str) -> list[SeasonEnded]:
    entries: list[tuple[str, dict[str, str]]] = await redis.xrange(  # type: ignore[assignment]
        Keys(prefix).league_events_stream(league_id)
    )
    events = [msgspec.json.decode(f["event"], type=dict[str, Any]) for _, f in entries]
    return [msgspec.convert(e, SeasonEnded) for e in events if e["type"] == "season_ended"]


async def wait_finished(db_url: str, league_id: str, season: int) -> None:
    async def finished() -> bool:
        conn = await asyncpg.connect(db_url)
        try:
            return bool(
                await conn.fetchval(
                    "SELECT finished_at IS NOT NULL FROM league_closes "
                    "WHERE league_id = $1 AND season = $2",
                    league_id,
                    season,
                )
            )
        finally:
            await conn.close()

    await async_wait_until(finished, 10, f"season {season} of {league_id} to be finished")


async def test_a_season_end_moves_every_player_up_down_or_not(
    worker: Worker, database_url: str, redis: AnyRedis, redis_key_prefix: str
) -> None:
    _, client = worker
    league = await create_league(client, cohort_size=5)  # Bronze ↑2, Silver ↑2 ↓2, Gold ↓2
    league_id = league["id"]
    players = [p for p, _ in await insert_players(database_url, 10)]
    for i, player in enumerate(players):  # two Bronze cohorts; later players score more
        await submit(client, league_id, player, 10 * (i + 1))
    ended = await end_season(client, league_id)
    assert ended.status_code == 200, ended.text
    assert ended.json()["season"] == 2
    assert ended.json()["season_ends_at"] == league["season_ends_at"]  # the next boundary
    again = await end_season(client, league_id, season=1)
    assert again.status_code == 409
    assert "closed already" in again.json()["detail"]
    assert (await end_season(client, league_id, season=7)).status_code == 409

    # Season 1: in each cohort of 5 the best two go up (Bronze demotes no one).
    promoted = set(players[3:5] + players[8:10])
    history = {
        p: (await client.get(f"/v1/leagues/{league_id}/players/{p}/seasons")).json()["seasons"]
        for p in players
    }
    for player in players:
        (result,) = history[player]
        assert (result["season"], result["tier"]) == (1, "Bronze")
        assert result["new_tier"] == ("Silver" if player in promoted else "Bronze")
        assert result["zone"] == ("promote" if player in promoted else "stay")
    closed = await cohort(client, league_id, "1-1-1")
    assert closed["closed"] is True
    assert [e["rank"] for e in closed["entries"]] == [1, 2, 3, 4, 5]
    assert [e["zone"] for e in closed["entries"]] == ["promote"] * 2 + ["stay"] * 3
    await wait_finished(database_url, league_id, 1)
    events = await season_ended(redis, redis_key_prefix, league_id)
    assert sorted(e.player_id for e in events) == sorted(players)
    best = next(e for e in events if e.player_id == players[9])
    assert (best.season, best.tier, best.new_tier, best.rank, best.zone, best.cohort) == (
        1, "Bronze", "Silver", 1, "promote", "1-1-2"
    )  # fmt: skip
    assert best.score == 100

    # Season 2: the promoted four share a Silver cohort; its best two go up, last two down.
    placed = {p: await submit(client, league_id, p, 1000 - i) for i, p in enumerate(players)}
    silver = [p for p in players if p in promoted]
    assert {placed[p]["cohort"] for p in silver} == {"2-2-1"}
    assert {placed[p]["tier"] for p in silver} == {"Silver"}
    assert {placed[p]["cohort"] for p in players if p not in promoted} == {"2-1-1", "2-1-2"}
    page = await cohort(client, league_id, "2-2-1")
    assert [e["zone"] for e in page["entries"]] == ["promote", "promote", "demote", "demote"]
    assert (await end_season(client, league_id, season=2)).status_code == 200
    outcome = {
        p: (await client.get(f"/v1/leagues/{league_id}/players/{p}/seasons")).json()["seasons"]
        for p in silver
    }
    assert [outcome[p][0]["new_tier"] for p in silver] == ["Gold", "Gold", "Bronze", "Bronze"]
    assert [s["season"] for s in outcome[silver[0]]] == [2, 1]  # newest first
    limited = await client.get(f"/v1/leagues/{league_id}/players/{silver[0]}/seasons?limit=1")
    assert [s["season"] for s in limited.json()["seasons"]] == [2]
    audit = (await client.get("/v1/audit?limit=5", headers=ADMIN)).json()["entries"]
    assert any(e["action"] == "league.season_end" for e in audit)


async def test_a_season_closes_at_its_end_and_the_next_one_follows_the_schedule(
    worker: Worker, database_url: str, clock: MovableClock
) -> None:
    app, client = worker
    league = await create_league(client, schedule="daily")
    league_id = league["id"]
    (player, _), (other, _) = await insert_players(database_url, 2)
    await submit(client, league_id, player, 5)
    ends = datetime.fromisoformat(league["season_ends_at"])
    clock.set(ends + timedelta(seconds=1))
    late = await client.post(
        f"/v1/leagues/{league_id}/scores", json={"score": 1, "player_id": other}, headers=ADMIN
    )
    assert late.status_code == 409
    assert int(late.headers["Retry-After"]) >= 1
    assert "season 1 has ended" in late.json()["detail"]

    # The refused submission woke the close job (its next round is an hour away).
    async def next_season_started() -> bool:
        response = await client.get(f"/v1/leagues/{league_id}")
        return bool(response.json()["season"] == 2)

    await async_wait_until(next_season_started, 10, "the season to close")
    closer = services_of(app).get(SeasonCloser)
    assert (league_id, 1) not in (await closer.run_once()).closed  # once
    now_league = (await client.get(f"/v1/leagues/{league_id}")).json()
    assert datetime.fromisoformat(now_league["season_started_at"]) == ends
    assert datetime.fromisoformat(now_league["season_ends_at"]) == ends + timedelta(days=1)
    await wait_finished(database_url, league_id, 1)
    placed = await submit(client, league_id, other, 1)
    assert (placed["season"], placed["cohort"]) == (2, "2-1-1")
    gone = await client.get(f"/v1/leagues/{league_id}/players/{player}")
    assert gone.status_code == 404  # has not played season 2


async def test_no_accepted_submission_is_lost_to_a_close_racing_it(
    live: httpx.AsyncClient, database_url: str
) -> None:
    """Every 200 counts in the season it names: in season 1's results, or in season 2."""
    league = await create_league(live, cohort_size=50)
    league_id = league["id"]
    players = [p for p, _ in await insert_players(database_url, 20)]

    async def one(i: int) -> tuple[str, int, int | None]:
        player, score = players[i % 20], i + 1
        response = await live.post(
            f"/v1/leagues/{league_id}/scores",
            json={"score": score, "player_id": player},
            headers=ADMIN,
        )
        assert response.status_code in (200, 409), response.text
        return player, score, response.json()["season"] if response.status_code == 200 else None

    async def end() -> None:
        assert (await end_season(live, league_id)).status_code == 200

    # Before the end, racing it, and after it.
    before = await asyncio.gather(*(one(i) for i in range(100)))
    racing, _ = await asyncio.gather(asyncio.gather(*(one(i) for i in range(100, 200))), end())
    after = await asyncio.gather(*(one(i) for i in range(200, 300)))
    answers = [*before, *racing, *after]
    accepted: collections.Counter[tuple[str, int]] = collections.Counter()
    for player, score, season in answers:
        if season is not None:
            accepted[(player, season)] += score
    conn = await asyncpg.connect(database_url)
    try:
        results = {
            r["player_id"]: r["score"]
            for r in await conn.fetch(
                "SELECT player_id::text, score FROM league_results WHERE league_id = $1", league_id
            )
        }
        season_two = {
            r["player_id"]: r["score"]
            for r in await conn.fetch(
                "SELECT player_id::text, score FROM league_members "
                "WHERE league_id = $1 AND season = 2",
                league_id,
            )
        }
    finally:
        await conn.close()
    assert results == {p: s for (p, season), s in accepted.items() if season == 1}
    assert season_two == {p: s for (p, season), s in accepted.items() if season == 2}


async def test_a_worker_dying_in_the_results_transaction_leaves_no_trace(
    worker: Worker, database_url: str
) -> None:
    app, client = worker
    """The worker's connection dies with the results written but not committed: the
    season stays open, and the next close does it all, once."""
    league = await create_league(client, cohort_size=5)
    league_id = league["id"]
    for player, _ in await insert_players(database_url, 12):
        await submit(client, league_id, player, 3)
    services = services_of(app)
    seasons = services.get(SeasonRepository)
    current = await services.get(LeagueService).fresh(league_id)
    blocker = await asyncpg.connect(database_url)
    observer = await asyncpg.connect(database_url)
    try:
        # The close's last statement waits behind this lock: all else is written by then.
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE league_closes IN EXCLUSIVE MODE")
        now = services.infra.clock()
        closing = asyncio.create_task(
            seasons.close_season(
                current,
                1,
                now=now,
                early=True,
                next_season=next_season(current.schedule, now, early=True),
                actor="admin",
            )
        )

        async def waiting() -> bool:
            # Another connection: a transaction sees pg_stat_activity as of its first look.
            return bool(
                await observer.fetchval(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE query LIKE 'INSERT INTO league_closes%' AND wait_event_type = 'Lock'"
                )
            )

        await async_wait_until(waiting, 10, "the close to wait on its last statement")
        killed = await observer.fetchval(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'INSERT INTO league_closes%'"
        )
        assert killed
        await transaction.rollback()
        with pytest.raises(DependencyUnavailableError):
            await closing
        assert (
            await blocker.fetchval(
                "SELECT count(*) FROM league_results WHERE league_id = $1", league_id
            )
            == 0
        )
        assert await blocker.fetchval("SELECT season FROM leagues WHERE id = $1", league_id) == 1
    finally:
        await blocker.close()
        await observer.close()
    response = await end_season(client, league_id)
    assert response.status_code == 200
    history = await client.get(f"/v1/leagues/{league_id}/cohorts/1-1-1")
    assert len(history.json()["entries"]) == 5
    conn = await asyncpg.connect(database_url)
    try:
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM league_results WHERE league_id = $1", league_id
            )
            == 12
        )
    finally:
        await conn.close()


async def test_events_of_a_close_go_out_once_across_a_crash_and_a_second_worker(
    worker: Worker,
    database_url: str,
    redis: AnyRedis,
    redis_key_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The follow-up is cancelled between batches (its worker died); two workers take it
    over at once: every player gets exactly one season_ended."""
    app, client = worker
    monkeypatch.setattr(seasons_module, "ANNOUNCE_BATCH", 3)
    league = await create_league(client, cohort_size=4)
    league_id = league["id"]
    players = [p for p, _ in await insert_players(database_url, 17)]
    for i, player in enumerate(players):
        await submit(client, league_id, player, i)
    services = services_of(app)
    leagues = services.get(LeagueService)
    seasons = services.get(SeasonRepository)
    current = await leagues.fresh(league_id)
    now = services.infra.clock()
    close = await seasons.close_season(
        current,
        1,
        now=now,
        early=True,
        next_season=next_season(current.schedule, now, early=True),
        actor=None,
    )
    assert close is not None
    closer = services.get(SeasonCloser)
    stuck = asyncio.Event()

    async def die_after_the_third_batch(batch: int) -> None:
        if batch == 2:  # published, its progress not noted yet
            stuck.set()
            await asyncio.Event().wait()  # until cancelled: the worker dies here

    closer.after_announce = die_after_the_third_batch
    dying = asyncio.create_task(closer.finish(close))
    await asyncio.wait_for(stuck.wait(), 10)
    dying.cancel()
    await asyncio.gather(dying, return_exceptions=True)
    closer.after_announce = None
    assert len(await season_ended(redis, redis_key_prefix, league_id)) == 9
    # Two workers find it unfinished at once (one holds the lease, or both race the markers).
    (unfinished,) = [c for c in await seasons.unfinished() if c.league_id == league_id]
    await asyncio.gather(closer.finish(unfinished), closer.finish(close))
    events = await season_ended(redis, redis_key_prefix, league_id)
    assert collections.Counter(e.player_id for e in events) == dict.fromkeys(players, 1)
    keys = Keys(redis_key_prefix)
    leftovers = [
        key async for key in redis.scan_iter(match=f"{keys.league_pattern(league_id)[:-1]}1:1-*")
    ]
    assert leftovers == []  # the closed cohorts' indexes went


async def test_deleting_a_player_or_a_league_takes_their_results_too(
    worker: Worker, database_url: str
) -> None:
    """Results have no foreign keys (D-031): the deletions remove them themselves."""
    _, client = worker
    league = await create_league(client, cohort_size=5)
    league_id = league["id"]
    players = [p for p, _ in await insert_players(database_url, 3)]
    for i, player in enumerate(players):
        await submit(client, league_id, player, i)
    assert (await end_season(client, league_id)).status_code == 200
    assert (await client.delete(f"/v1/players/{players[0]}", headers=ADMIN)).status_code == 204
    closed = await cohort(client, league_id, "1-1-1")
    assert [e["player_id"] for e in closed["entries"]] == [players[2], players[1]]

    async def results() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM league_results WHERE league_id = $1", league_id
                )
            )
        finally:
            await conn.close()

    assert await results() == 2
    assert (await client.delete(f"/v1/leagues/{league_id}", headers=ADMIN)).status_code == 204
    assert await results() == 0
