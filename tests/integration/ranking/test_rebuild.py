"""Rebuilding leaderboard indexes from Postgres: after a loss, by hand, at scale, under load.

Postgres is the record; a lost Redis index must come back identical, once, whoever
notices first, and changes made while a rebuild runs must survive it. Player and board
deletion must leave nothing behind in any index.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar
from redis.asyncio import Redis

from leaderboard.boards.periods import ALL_TIME
from leaderboard.boards.repository import BoardRepository
from leaderboard.lib.db import Database
from leaderboard.lib.errors import NotFoundError
from leaderboard.lib.features import Services
from leaderboard.lib.keys import Keys
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.lib.settings import Settings
from leaderboard.ops.embedded import EmbeddedValkey
from leaderboard.ops.maintenance import rebuild_indexes
from leaderboard.ranking.index import RankIndex
from leaderboard.ranking.scripts import IndexScripts
from leaderboard.ranking.values import from_redis_score, member_of, player_of
from leaderboard.scores.writer import ScoreWriter, Submission
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.conftest import ADMIN, running
from tests.helpers import async_wait_until
from tests.procs import clean_env
from tests.scores_helpers import (
    create_board,
    insert_players,
    postgres_ranking,
    ranked,
    submit,
    top,
)

SCORE_COLUMNS = [
    "leaderboard_id",
    "period_start",
    "player_id",
    "score",
    "reached_seq",
    "reached_at",
]


@dataclass
class Live:
    """The app running in this test's event loop, and an HTTP client that calls it."""

    app: Litestar
    http: httpx.AsyncClient

    @property
    def services(self) -> Services:
        return self.app.plugins.get(InfrastructurePlugin).services


@asynccontextmanager
async def serve(app: Litestar) -> AsyncIterator[Live]:
    transport = httpx.ASGITransport(app=cast("Any", app))  # Litestar's own ASGI types
    async with (
        running(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http,
    ):
        yield Live(app, http)


@pytest.fixture
async def live(settings: Settings, redis: Redis) -> AsyncIterator[Live]:
    """Requests that really run concurrently (tests/test_scores_model.py says why)."""
    async with serve(create_app(settings)) as app:
        yield app


async def unlink_board_keys(redis: Redis, keys: Keys, board_id: str) -> int:
    """Delete every index key of a board (what a FLUSHALL does to it); how many there were."""
    found = [key async for key in redis.scan_iter(match=keys.board_pattern(board_id), count=1000)]
    if found:
        await redis.unlink(*found)
    return len(found)


async def populate(
    client: httpx.AsyncClient, database_url: str, board_id: str, count: int, seed: int
) -> dict[str, str]:
    """``count`` players with scores submitted through the API (many ties, some twice)."""
    players = await insert_players(database_url, count)
    rng = random.Random(seed)
    plan = [(player_id, rng.randint(0, count // 8)) for player_id, _ in players]
    plan += [(player_id, rng.randint(0, count // 4)) for player_id, _ in rng.sample(players, 30)]
    gate = asyncio.Semaphore(16)

    async def one(player_id: str, score: int) -> None:
        async with gate:
            await submit(client, board_id, player_id, score)

    await asyncio.gather(*(one(p, s) for p, s in plan[:count]))
    await asyncio.gather(*(one(p, s) for p, s in plan[count:]))
    return dict(players)


def page_of(
    board_id: str, entries: list[dict[str, Any]], limit: int, offset: int
) -> dict[str, Any]:
    return {
        "leaderboard": board_id,
        "span": "never",
        "period": None,
        "total": len(entries),
        "entries": entries[offset : offset + limit],
    }


async def every_page(client: httpx.AsyncClient, board_id: str, limit: int) -> list[dict[str, Any]]:
    pages = [await top(client, board_id, limit=limit)]
    for offset in range(limit, pages[0]["total"], limit):
        pages.append(await top(client, board_id, limit=limit, offset=offset))
    return pages


async def copy_board(
    database_url: str, board_id: str, count: int, seed: int, high: int
) -> dict[str, str]:
    """``count`` players and their scores (0..high) straight into Postgres with COPY."""
    rng = random.Random(seed)
    players = [(uuid.uuid4(), os.urandom(32), f"Bulk-{i}") for i in range(count)]
    conn = await asyncpg.connect(database_url)
    try:
        seqs = [
            row[0]
            for row in await conn.fetch(
                "SELECT nextval('score_reached_seq') FROM generate_series(1, $1)", count
            )
        ]
        rng.shuffle(seqs)  # who reached a score first is not who was inserted first
        now = datetime.now(UTC)
        await conn.copy_records_to_table(
            "players", records=players, columns=["id", "device_hash", "display_name"]
        )
        await conn.copy_records_to_table(
            "scores",
            records=[
                (board_id, ALL_TIME, player_id, rng.randint(0, high), seq, now)
                for (player_id, _, _), seq in zip(players, seqs, strict=True)
            ],
            columns=SCORE_COLUMNS,
        )
    finally:
        await conn.close()
    return {str(player_id): name for player_id, _, name in players}


def no_progress(board_id: str, period: str) -> Callable[[int, int], None]:
    return lambda done, total: None


# --------------------------------------------------------------------------------------
# 1. A lost index is rebuilt by the first request that needs it, once


async def test_a_lost_index_is_rebuilt_once_and_reads_the_same(
    live: Live, database_url: str, redis: Redis, redis_key_prefix: str
) -> None:
    client = live.http
    board_id = await create_board(client)
    await populate(client, database_url, board_id, 200, seed=1)
    full = (await top(client, board_id, limit=1000))["entries"]
    assert len(full) == 200
    assert ranked(full) == await postgres_ranking(database_url, board_id)
    assert [entry["rank"] for entry in full] == list(range(1, 201))
    pages = await every_page(client, board_id, 50)
    assert [entry for page in pages for entry in page["entries"]] == full

    keys = Keys(redis_key_prefix)
    index = keys.index(board_id, "all")
    assert await unlink_board_keys(redis, keys, board_id) >= 3
    assert await redis.exists(index.ready, index.scores, index.members) == 0

    rebuilds = live.services.get(RankIndex).rebuilds
    reads = [(50, offset) for offset in (0, 50, 100, 150)] * 4 + [(1000, 0), (7, 193)] * 2
    assert len(reads) == 20
    answers = await asyncio.gather(
        *(top(client, board_id, limit=limit, offset=offset) for limit, offset in reads)
    )
    for (limit, offset), answer in zip(reads, answers, strict=True):
        assert answer == page_of(board_id, full, limit, offset), (limit, offset)
    assert live.services.get(RankIndex).rebuilds == rebuilds + 1, "one rebuild for 20 readers"
    assert await redis.exists(index.ready) == 1
    assert await every_page(client, board_id, 50) == pages

    # Lost again; this time a submission is the first to notice.
    await unlink_board_keys(redis, keys, board_id)
    climber = full[150]["player_id"]
    result = await submit(client, board_id, climber, 10_000)
    assert (result["score"], result["rank"], result["changed"]) == (10_000, 1, True)
    assert live.services.get(RankIndex).rebuilds == rebuilds + 2
    after = (await top(client, board_id, limit=1000))["entries"]
    assert ranked(after) == await postgres_ranking(database_url, board_id)
    assert ranked(after) == [(climber, 10_000)] + [
        (entry["player_id"], entry["score"]) for entry in full if entry["player_id"] != climber
    ]


@pytest.mark.slow
async def test_flushall_then_the_first_reads_rebuild_once(
    settings: Settings, own_valkey: EmbeddedValkey, database_url: str
) -> None:
    app = create_app(msgspec.structs.replace(settings, redis_url=own_valkey.url))
    flusher = Redis.from_url(own_valkey.url, protocol=2, decode_responses=True)
    try:
        async with serve(app) as live:
            client = live.http
            board_id = await create_board(client)
            await populate(client, database_url, board_id, 120, seed=2)
            full = (await top(client, board_id, limit=1000))["entries"]
            assert ranked(full) == await postgres_ranking(database_url, board_id)
            someone = full[60]["player_id"]
            entry = (await client.get(f"/v1/leaderboards/{board_id}/players/{someone}")).json()

            await flusher.flushall()
            assert await flusher.dbsize() == 0

            rebuilds = live.services.get(RankIndex).rebuilds
            reads = [(40, offset) for offset in (0, 40, 80)] * 6 + [(1000, 0)] * 2
            answers = await asyncio.gather(
                *(top(client, board_id, limit=limit, offset=offset) for limit, offset in reads)
            )
            for (limit, offset), answer in zip(reads, answers, strict=True):
                assert answer == page_of(board_id, full, limit, offset), (limit, offset)
            assert live.services.get(RankIndex).rebuilds == rebuilds + 1
            again = await client.get(f"/v1/leaderboards/{board_id}/players/{someone}")
            assert again.json() == entry

            await flusher.flushall()
            result = await submit(client, board_id, someone, 5_000)
            assert (result["score"], result["rank"], result["changed"]) == (5_000, 1, True)
            assert live.services.get(RankIndex).rebuilds == rebuilds + 2
            after = (await top(client, board_id, limit=1000))["entries"]
            assert after[0]["player_id"] == someone
            assert ranked(after) == await postgres_ranking(database_url, board_id)
    finally:
        await flusher.aclose()


# --------------------------------------------------------------------------------------
# 2. `leaderboard rebuild` from the command line


async def run_cli(args: list[str], cwd: str, **env: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "leaderboard",
        *args,
        env=clean_env(**env),
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_cli_rebuild_restores_a_lost_index(
    live: Live,
    database_url: str,
    redis_server_url: str,
    redis_key_prefix: str,
    redis: Redis,
    tmp_path: Path,
) -> None:
    client = live.http
    board_id = await create_board(client)
    await populate(client, database_url, board_id, 120, seed=3)
    pages = await every_page(client, board_id, 25)
    keys = Keys(redis_key_prefix)
    assert await unlink_board_keys(redis, keys, board_id) >= 3

    env = {
        "LEADERBOARD_DATABASE_URL": database_url,
        "LEADERBOARD_REDIS_URL": redis_server_url,
        "LEADERBOARD_REDIS_KEY_PREFIX": redis_key_prefix,
    }
    code, out, err = await run_cli(["rebuild", board_id], str(tmp_path), **env)
    assert code == 0, err
    assert f"{board_id} (all time): 120 entries" in out.splitlines(), out
    assert await redis.exists(keys.index(board_id, "all").ready) == 1

    rebuilds = live.services.get(RankIndex).rebuilds
    assert await every_page(client, board_id, 25) == pages
    assert live.services.get(RankIndex).rebuilds == rebuilds, "the app found the index ready"

    code, out, err = await run_cli(["rebuild", "t-no-such-board"], str(tmp_path), **env)
    assert code == 2
    assert err.startswith("error: "), err
    assert "t-no-such-board" in err, err


# --------------------------------------------------------------------------------------
# 3. 100,000 entries


async def test_rebuild_of_100000_entries(
    live: Live, settings: Settings, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = live.http
    board_id = await create_board(client)
    entries = 100_000
    started = time.monotonic()
    names = await copy_board(database_url, board_id, entries, seed=4, high=20_000)
    loaded = time.monotonic() - started

    progress: list[tuple[int, int]] = []

    def record(board: str, period: str) -> Callable[[int, int], None]:
        assert (board, period) == (board_id, "all time")
        return lambda done, total: progress.append((done, total))

    started = time.monotonic()
    done = await rebuild_indexes(settings, board_id, record)
    took = time.monotonic() - started
    with capsys.disabled():
        print(f"\n[rebuild] {entries} entries: loaded in {loaded:.2f} s, rebuilt in {took:.2f} s")
    assert done == [(board_id, "all time", entries)]
    assert progress[0] == (0, entries)
    assert progress[-1] == (entries, entries)

    reference = await postgres_ranking(database_url, board_id)
    assert len(reference) == entries
    for offset in (0, 1000, 50_000, 99_000, 99_990, entries):
        page = await top(client, board_id, limit=1000, offset=offset)
        assert page["total"] == entries
        expected = [
            {"rank": offset + i + 1, "player_id": player, "display_name": names[player], "score": s}
            for i, (player, s) in enumerate(reference[offset : offset + 1000])
        ]
        assert page["entries"] == expected, f"page at offset {offset}"
    assert len((await top(client, board_id, limit=1000, offset=99_990))["entries"]) == 10

    player, score = reference[49_999]
    around = await client.get(
        f"/v1/leaderboards/{board_id}/players/{player}/around", params={"radius": 3}
    )
    assert [(e["rank"], e["player_id"]) for e in around.json()["entries"]] == [
        (49_997 + i, p) for i, (p, _) in enumerate(reference[49_996:50_003])
    ]
    entry = (await client.get(f"/v1/leaderboards/{board_id}/players/{player}")).json()
    assert (entry["rank"], entry["score"], entry["total"]) == (50_000, score, entries)
    assert live.services.get(RankIndex).rebuilds == 0, "the index came from rebuild_indexes"


# --------------------------------------------------------------------------------------
# 4. Changes made while a rebuild runs are kept


@pytest.mark.parametrize("index_ready", [True, False], ids=["old-index-kept", "index-lost"])
async def test_changes_during_a_rebuild_are_not_lost(
    live: Live,
    settings: Settings,
    database_url: str,
    redis: Redis,
    redis_key_prefix: str,
    index_ready: bool,
) -> None:
    """The rebuild is held after its first batch (its Postgres snapshot is taken by then)
    while players submit, join and are deleted; its swap must keep all of it.

    old-index-kept: the live index stays readable and takes the changes, which the
    journal carries over. index-lost: submissions commit, then wait for the rebuild and
    apply to the new index.
    """
    client = live.http
    board_id = await create_board(client)
    count = 30_000
    names = await copy_board(database_url, board_id, count, seed=5, high=5_000)
    players = list(names)
    index = Keys(redis_key_prefix).index(board_id, "all")
    if index_ready:
        assert await rebuild_indexes(settings, board_id, no_progress) == [
            (board_id, "all time", count)
        ]
    assert await redis.exists(index.ready) == int(index_ready)

    paused, go = threading.Event(), threading.Event()

    def holding(board: str, period: str) -> Callable[[int, int], None]:
        def progress(done: int, total: int) -> None:
            if done > 0 and not paused.is_set():
                paused.set()
                if not go.wait(30):
                    raise TimeoutError("the test never let the rebuild go on")

        return progress

    rebuild = asyncio.create_task(
        asyncio.to_thread(lambda: asyncio.run(rebuild_indexes(settings, board_id, holding)))
    )
    newcomers = [player for player, _ in await insert_players(database_url, 2)]
    improved = players[:5]
    unchanged, deleted = players[5], players[6]
    changes = [(p, 10_000 + i) for i, p in enumerate(improved)]
    changes += [(unchanged, -1), (newcomers[0], 7_000), (newcomers[1], 0)]
    pending: list[asyncio.Task[dict[str, Any]]] = []

    async def paused_now() -> bool:
        return paused.is_set() or rebuild.done()

    try:
        await async_wait_until(paused_now, 30, "the rebuild to finish its first batch")
        assert not rebuild.done()
        assert await redis.exists(index.lock) == 1
        if index_ready:
            for player, score in changes:
                await submit(client, board_id, player, score)
            removed = await client.delete(f"/v1/players/{deleted}", headers=ADMIN)
            assert removed.status_code == 204, removed.text
            # 5 improvements, 2 newcomers, 1 removal; the unchanged one is no change.
            assert await redis.llen(index.journal) == 8
            # Readers keep reading the old index, changes included.
            page = await top(client, board_id, limit=5)
            assert page["total"] == count + 2 - 1
            assert [e["player_id"] for e in page["entries"]] == improved[::-1]
        else:
            pending = [asyncio.create_task(submit(client, board_id, p, s)) for p, s in changes]
            removed = await client.delete(f"/v1/players/{deleted}", headers=ADMIN)
            assert removed.status_code == 204, removed.text

            async def committed() -> bool:
                conn = await asyncpg.connect(database_url)
                try:
                    n = await conn.fetchval(
                        """
                        SELECT count(*) FROM scores
                         WHERE leaderboard_id = $1
                           AND ((player_id = ANY($2::uuid[]) AND submissions > 1)
                                OR player_id = ANY($3::uuid[]))
                        """,
                        board_id,
                        [*improved, unchanged],
                        newcomers,
                    )
                finally:
                    await conn.close()
                return int(n) == len(changes)

            await async_wait_until(committed, 30, "the submissions to commit")
            assert not any(task.done() for task in pending), "they wait for the rebuild"
    finally:
        go.set()
    results = await rebuild
    final = await postgres_ranking(database_url, board_id)
    assert len(final) == count + 2 - 1
    # Old index kept: the journal brought every change into the new index. Index lost:
    # the journal held the removal; the waiting submissions applied after the swap.
    swapped_in = len(final) if index_ready else count - 1
    assert results == [(board_id, "all time", swapped_in)]
    answers = await asyncio.gather(*pending)
    if not index_ready:
        assert [answer["score"] for answer in answers[:5]] == [10_000 + i for i in range(5)]

    raw = cast("list[tuple[str, float]]", await redis.zrange(index.scores, 0, -1, withscores=True))
    in_index = [(player_of(member), from_redis_score(score, "desc")) for member, score in raw]
    assert in_index == final, "the rebuilt index is not Postgres' ranking"
    members = cast("dict[str, str]", await redis.hgetall(index.members))
    in_zset = {member for member, _ in raw}
    assert {p for p, v in members.items() if member_of(p, v) in in_zset} == {p for p, _ in final}
    assert all(member_of(p, members[p]) in in_zset for p, _ in final)
    assert await redis.exists(index.journal, index.lock) == 0

    for player, _ in changes:
        entry = (await client.get(f"/v1/leaderboards/{board_id}/players/{player}")).json()
        rank = [p for p, _ in final].index(player) + 1
        assert (entry["rank"], entry["score"]) == (rank, dict(final)[player])
    assert [p for p, _ in final[:5]] == improved[::-1]
    gone = await client.get(f"/v1/leaderboards/{board_id}/players/{deleted}")
    assert gone.status_code == 404


# --------------------------------------------------------------------------------------
# 5. Deletions


async def test_deleting_a_player_or_a_board_leaves_nothing_behind(
    live: Live, database_url: str, redis: Redis, redis_key_prefix: str
) -> None:
    client = live.http
    keys = Keys(redis_key_prefix)
    first = await create_board(client, operator="best", order="desc")
    second = await create_board(client, operator="sum", order="asc")
    players = [player for player, _ in await insert_players(database_url, 3)]
    doomed, *others = players
    for i, player in enumerate(players):
        await submit(client, first, player, 100 - i)
        await submit(client, second, player, i)
    for board in (first, second):
        assert (await top(client, board))["total"] == 3

    response = await client.delete(f"/v1/players/{doomed}", headers=ADMIN)
    assert response.status_code == 204, response.text
    for board in (first, second):
        page = await top(client, board)
        assert page["total"] == 2
        assert [e["player_id"] for e in page["entries"]] == others
        assert [e["rank"] for e in page["entries"]] == [1, 2]
        missing = await client.get(f"/v1/leaderboards/{board}/players/{doomed}")
        assert missing.status_code == 404
        index = keys.index(board, "all")
        members = cast("list[str]", await redis.zrange(index.scores, 0, -1))
        assert sorted(player_of(member) for member in members) == sorted(others)
        # The members hash may keep a marker for the deleted player, never a live entry.
        left = cast("str | None", await redis.hget(index.members, doomed))
        assert left is None or await redis.zscore(index.scores, member_of(doomed, left)) is None
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM scores WHERE player_id = $1", doomed) == 0
    finally:
        await conn.close()

    found = [key async for key in redis.scan_iter(match=keys.board_pattern(first), count=1000)]
    assert found, "the first board has index keys before it is deleted"
    await client.get(f"/v1/leaderboards/{first}")  # cache its configuration
    response = await client.delete(f"/v1/leaderboards/{first}", headers=ADMIN)
    assert response.status_code == 204, response.text
    found = [key async for key in redis.scan_iter(match=keys.board_pattern(first), count=1000)]
    assert found == []
    assert await redis.exists(keys.board_config(first)) == 0
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetchval("SELECT count(*) FROM scores WHERE leaderboard_id = $1", first)
        boards = await conn.fetchval("SELECT count(*) FROM leaderboards WHERE id = $1", first)
    finally:
        await conn.close()
    assert (rows, boards) == (0, 0)
    assert (await client.get(f"/v1/leaderboards/{first}")).status_code == 404
    assert (await client.get(f"/v1/leaderboards/{first}/top")).status_code == 404
    late = await client.post(
        f"/v1/leaderboards/{first}/scores", json={"score": 1, "player_id": others[0]}, headers=ADMIN
    )
    assert late.status_code == 404
    # The other board is untouched, and a new board of the same id starts empty.
    assert (await top(client, second))["total"] == 2
    await create_board(client, id=first)
    assert (await top(client, first))["total"] == 0


async def test_a_late_index_write_does_not_bring_a_deleted_player_back(
    live: Live, database_url: str, redis: Redis, redis_key_prefix: str
) -> None:
    """A submission committed before the player's deletion, whose index write arrives
    after it (a worker's Redis call can be that slow), must not resurrect the player.

    The test plays that worker: it commits through the service's repository, lets the
    deletion run, then runs the index write as ``ScoreService.submit_score`` would.
    """
    client = live.http
    board_id = await create_board(client)
    (doomed, _), (other, _) = await insert_players(database_url, 2)
    await submit(client, board_id, doomed, 10)
    await submit(client, board_id, other, 5)

    db = Database(database_url)
    await db.open()
    try:
        board = await BoardRepository(db).get(board_id)
        assert board is not None
        stored = await ScoreWriter(db).commit(Submission(board, ALL_TIME, doomed, 50, None))
    finally:
        await db.close()
    assert stored.changed

    response = await client.delete(f"/v1/players/{doomed}", headers=ADMIN)
    assert response.status_code == 204, response.text
    index = Keys(redis_key_prefix).index(board_id, "all")
    try:
        late = await IndexScripts(ScriptPipeline(redis)).apply(
            index,
            order="desc",
            player_id=doomed,
            score=stored.score,
            reached_seq=stored.reached_seq,
            ttl_ms=0,
        )
        outcome = "applied" if late.written else "ignored"
    except NotFoundError:
        outcome = "refused: no such player"

    page = await top(client, board_id)
    assert [e["player_id"] for e in page["entries"]] == [other], (
        f"the deleted player is back in the index ({outcome}): {page['entries']}"
    )
    assert page["total"] == 1
    gone = await client.get(f"/v1/leaderboards/{board_id}/players/{doomed}")
    assert gone.status_code == 404
    assert outcome != "applied"
