"""Top pages cached by two workers over one Postgres and Redis: what each sees, when."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date

import httpx
import msgspec
import pytest
from litestar import Litestar
from redis.asyncio import Redis

from leaderboard.boards.models import BoardCreate, RateLimitConfig
from leaderboard.boards.service import BoardService
from leaderboard.lib.db import Database
from leaderboard.lib.keys import Keys
from leaderboard.lib.settings import Settings
from leaderboard.players.service import PlayerService
from leaderboard.ranking.service import RankingService
from leaderboard.scores.models import SubmitResult
from leaderboard.scores.service import ScoreService
from leaderboard.server.app import create_app
from leaderboard.server.services import build_services, close_services
from tests.conftest import ADMIN, running
from tests.helpers import async_wait_until
from tests.scores_helpers import insert_players, submit

TODAY = date(2026, 11, 25)

# Tests that talk to Redis run on a single node and on a cluster (tests/conftest.py).
pytestmark = pytest.mark.redis_modes


# --------------------------------------------------------------------------------------
# Two workers over the same Postgres and Redis

TTL_MS = 3000  # long enough that "still cached" cannot be a scheduling accident


@pytest.fixture
async def two_workers(
    settings: Settings, redis: Redis
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    cached = msgspec.structs.replace(settings, top_page_cache_ms=TTL_MS)
    apps: list[Litestar] = [create_app(cached), create_app(cached)]
    a_transport = httpx.ASGITransport(app=apps[0])  # type: ignore[arg-type]
    b_transport = httpx.ASGITransport(app=apps[1])  # type: ignore[arg-type]
    async with (
        running(apps[0]),
        running(apps[1]),
        httpx.AsyncClient(transport=a_transport, base_url="http://a.local") as a,
        httpx.AsyncClient(transport=b_transport, base_url="http://b.local") as b,
    ):
        yield a, b


async def board_with_players(client: httpx.AsyncClient, count: int) -> tuple[str, list[str]]:
    """A new board and ``count`` new players on it, scoring 10, 20, … in that order."""
    board = f"pc-{uuid.uuid4().hex[:10]}"
    body = {"id": board, "rate_limit": {"limit": 1000, "window_seconds": 60}}
    assert (await client.post("/v1/leaderboards", json=body, headers=ADMIN)).status_code == 201
    players = []
    for i in range(count):
        response = await client.post("/v1/auth/device", json={"device_id": f"d-{uuid.uuid4()}"})
        players.append(response.json()["player_id"])
        await submit(client, board, players[-1], 10 * (i + 1))
    return board, players


async def top_scores(client: httpx.AsyncClient, board: str) -> list[int]:
    response = await client.get(f"/v1/leaderboards/{board}/top", params={"limit": 3})
    assert response.status_code == 200, response.text
    return [entry["score"] for entry in response.json()["entries"]]


async def test_a_worker_sees_its_own_changes_at_once_and_others_within_the_ttl(
    two_workers: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    a, b = two_workers
    board, players = await board_with_players(a, 5)
    assert await top_scores(a, board) == [50, 40, 30]
    assert await top_scores(b, board) == [50, 40, 30]  # b caches this page now

    await submit(a, board, players[0], 45)  # into the page
    assert await top_scores(a, board) == [50, 45, 40]  # a's own change: at once
    assert await top_scores(b, board) == [50, 40, 30]  # b: its cached page, for now

    async def b_sees_it() -> bool:
        return await top_scores(b, board) == [50, 45, 40]

    waited = await async_wait_until(b_sees_it, TTL_MS / 1000 + 5, "b's page to expire")
    assert waited <= TTL_MS / 1000 + 1

    # A renamed player drops the worker's pages: names are on them.
    response = await a.patch(
        f"/v1/players/{players[4]}", json={"display_name": "Renamed"}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    first = (await a.get(f"/v1/leaderboards/{board}/top", params={"limit": 3})).json()
    assert first["entries"][0]["display_name"] == "Renamed"


async def test_a_deleted_player_leaves_the_cached_page_at_once(
    two_workers: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    a, _ = two_workers
    board, players = await board_with_players(a, 3)
    assert await top_scores(a, board) == [30, 20, 10]  # cached now
    assert (await a.delete(f"/v1/players/{players[2]}", headers=ADMIN)).status_code == 204
    assert await top_scores(a, board) == [20, 10]

    # A deleted board's cached page goes with it; a new board of that id starts empty.
    assert (await a.delete(f"/v1/leaderboards/{board}", headers=ADMIN)).status_code == 204
    assert (await a.get(f"/v1/leaderboards/{board}/top")).status_code == 404
    body = {"id": board, "rate_limit": {"limit": 1000, "window_seconds": 60}}
    assert (await a.post("/v1/leaderboards", json=body, headers=ADMIN)).status_code == 201
    assert await top_scores(a, board) == []


async def test_a_worker_never_serves_a_cached_page_missing_its_own_change(
    settings: Settings, redis: Redis, db: Database, database_url: str
) -> None:
    """A top page read from the index before this worker applies a change must not be
    cached after the change's invalidation ran: it would hide the change for the whole
    TTL from the very client that just got a 200 for it.

    The after_read hook stands for the time a page spends on its names (here: a Postgres
    read of names not yet cached) while a submission of the same worker completes.
    """
    submitted: list[int] = []
    armed = False

    async def a_submission_completes_meanwhile(_ids: Sequence[str]) -> None:
        if armed and not submitted:
            outcome = await services.get(ScoreService).submit_score(board_id, players[2], 100, None)
            assert isinstance(outcome.result, SubmitResult)
            submitted.append(outcome.result.rank)

    cached = msgspec.structs.replace(settings, top_page_cache_ms=30_000)
    services = build_services(db, redis, Keys(settings.redis_key_prefix), cached)
    services.get(PlayerService).after_read = a_submission_completes_meanwhile
    board_id = f"rv-{uuid.uuid4().hex[:10]}"
    await services.get(BoardService).create(
        BoardCreate(id=board_id, rate_limit=RateLimitConfig(limit=1000, window_seconds=60)),
        actor="admin",
    )
    players = [player for player, _ in await insert_players(database_url, 3)]
    for i, player in enumerate(players[:2]):
        await services.get(ScoreService).submit_score(board_id, player, 10 * (i + 1), None)
    armed = True
    try:
        first = await services.get(RankingService).top(board_id, None, 0, 10)
        assert submitted == [1]  # the submission completed while the page was built
        assert [e.score for e in first.entries] == [20, 10]  # read before it: fine
        # The submitter reads the top page from the same worker right after its 200.
        after = await services.get(RankingService).top(board_id, None, 0, 10)
        assert [e.score for e in after.entries] == [100, 20, 10]
        assert after.total == 3
    finally:
        await close_services(services)
