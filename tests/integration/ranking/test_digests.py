"""Bucket digests: the index's and Postgres' agree after every kind of change, and the guard
finds and repairs a divergence through them in one round, on a board whose rolling check
would not reach the entry for a long time (the guard here checks a slice of one entry).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import asyncpg
import pytest
from redis.asyncio import Redis

from leaderboard.boards.service import BoardService
from leaderboard.lib.settings import Settings
from leaderboard.ranking.digests import Digest, ScoreDigests, bucket_of
from leaderboard.ranking.guard import IndexGuard, PeriodReport
from leaderboard.ranking.index import RankIndex
from leaderboard.ranking.records import ScoreRecords
from tests.conftest import ADMIN
from tests.integration.ranking.conftest import Live
from tests.integration.ranking.test_index_guard import board_of, index_keys, served, settle
from tests.scores_helpers import create_board, postgres_ranking, submit

pytestmark = pytest.mark.redis_modes


@pytest.fixture
def live(guarded_app: Live) -> Live:
    return guarded_app


ALL = date(1970, 1, 1)


def narrow_guard(live: Live) -> IndexGuard:
    """A guard whose rolling check sees one entry a round: what it finds, the digests found."""
    db = live.services.infra.db
    return IndexGuard(
        boards=live.services.get(BoardService),
        records=ScoreRecords(db),
        digests=ScoreDigests(db),
        index=live.services.get(RankIndex),
        clock=live.services.infra.clock,
        interval_seconds=20,
        slice_size=1,
    )


def not_first_in_the_rolling_check(players: list[str]) -> str:
    """A player the narrow guard's rolling check does not read in its first round.

    Its slice of one is the smallest player id: a fault there would be repaired by the
    rolling check before the digests are compared (player ids are random, so a fixed
    index into ``players`` made the tests fail one run in sixty).
    """
    return max(players)


async def one_round(live: Live, redis: Redis, board_id: str) -> PeriodReport:
    await redis.delete(index_keys(live.services.infra.settings, board_id).check)
    report = await narrow_guard(live).run_once()
    (mine,) = [p for p in report.periods if p.board_id == board_id]
    assert mine.checked
    return mine


async def assert_digests_agree(live: Live, redis: Redis, board_id: str) -> None:
    digests = ScoreDigests(live.services.infra.db)
    await digests.fold()
    ours = await digests.read(await live.services.get(BoardService).get(board_id), ALL)
    held = await redis.hgetall(index_keys(live.services.infra.settings, board_id).digest)
    assert {int(b): Digest.parse(str(v)) for b, v in held.items()} == ours
    assert sum(d.entries for d in ours.values()) == len(await served(live, board_id))


async def sql(database_url: str, query: str, *args: object) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(query, *args)
    finally:
        await conn.close()


async def test_digests_agree_after_submissions_removals_bans_and_rebuilds(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    board_id, players = await board_of(live, database_url, 40)
    asc_board = await create_board(live.http, order="asc", operator="sum")
    for i, player in enumerate(players[:10]):
        await submit(live.http, board_id, player, 7 * i)  # best of desc: some change, some not
        await submit(live.http, asc_board, player, -(10**15) + i)
        await submit(live.http, asc_board, player, 3)
    await assert_digests_agree(live, redis, board_id)
    await assert_digests_agree(live, redis, asc_board)
    url = f"/v1/leaderboards/{board_id}/players/{players[5]}"
    assert (await live.http.delete(url, headers=ADMIN)).status_code == 204
    ban = await live.http.post(f"/v1/players/{players[6]}/ban", json={"reason": "x"}, headers=ADMIN)
    assert ban.status_code == 204, ban.text
    await assert_digests_agree(live, redis, board_id)
    await assert_digests_agree(live, redis, asc_board)
    unban = await live.http.delete(f"/v1/players/{players[6]}/ban", headers=ADMIN)
    assert unban.status_code == 204, unban.text
    await assert_digests_agree(live, redis, board_id)
    board = await live.services.get(BoardService).get(board_id)
    assert await live.services.get(RankIndex).rebuild(board, ALL) == 39
    await assert_digests_agree(live, redis, board_id)


async def test_a_wrong_entry_the_index_took_is_found_by_its_bucket_in_one_round(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    """As a write whose transaction rolled back after it reached the index: the index holds
    a newer sequence with a score Postgres never had."""
    board_id, players = await board_of(live, database_url, 60)
    await settle(database_url, board_id)
    board = await live.services.get(BoardService).get(board_id)
    index = live.services.get(RankIndex)
    victim = not_first_in_the_rolling_check(players)
    await index.apply(board, ALL, victim, 10**9, 10**12, changed=True, announce=False)
    assert (await served(live, board_id))[0] == (victim, 10**9), "the fault shows"
    report = await one_round(live, redis, board_id)
    assert (report.differing, report.repaired, report.rebuilt) == (1, 1, None)
    assert await served(live, board_id) == await postgres_ranking(database_url, board_id)
    await assert_digests_agree(live, redis, board_id)


async def test_an_entry_the_index_lost_is_put_back_in_one_round(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    board_id, players = await board_of(live, database_url, 60)
    await settle(database_url, board_id)
    board = await live.services.get(BoardService).get(board_id)
    victim = not_first_in_the_rolling_check(players)
    assert await live.services.get(RankIndex).remove(board, ALL, victim)
    report = await one_round(live, redis, board_id)
    assert (report.differing, report.repaired) == (1, 1)
    assert await served(live, board_id) == await postgres_ranking(database_url, board_id)


async def test_an_entry_postgres_no_longer_has_goes_in_one_round(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    """A row deleted by hand in Postgres: its removal never reached the index."""
    board_id, players = await board_of(live, database_url, 60)
    await settle(database_url, board_id)
    await sql(
        database_url,
        "DELETE FROM scores WHERE leaderboard_id = $1 AND player_id = $2",
        board_id,
        uuid.UUID(players[3]),
    )
    report = await one_round(live, redis, board_id)
    assert (report.differing, report.removed, report.rebuilt) == (1, 1, None)
    assert await served(live, board_id) == await postgres_ranking(database_url, board_id)
    await assert_digests_agree(live, redis, board_id)


async def test_several_entries_postgres_lost_in_one_bucket_go_too(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    """Two extras in one bucket: the digest cannot name them, a scan of the members does."""
    board_id = await create_board(live.http)
    ids = [f"abc{i:05x}-0000-4000-8000-{uuid.uuid4().hex[:12]}" for i in range(3)]
    await sql(
        database_url,
        "INSERT INTO players (id, device_hash, display_name)"
        " SELECT x, sha256(x::text::bytea), 'P-' || left(x::text, 8) FROM unnest($1::uuid[]) x",
        ids,
    )
    for i, player in enumerate(ids):
        await submit(live.http, board_id, player, 100 + i)
    await settle(database_url, board_id)
    assert {bucket_of(player) for player in ids} == {0xABC}
    await sql(
        database_url,
        "DELETE FROM scores WHERE leaderboard_id = $1 AND player_id = ANY($2::uuid[])",
        board_id,
        ids[:2],
    )
    report = await one_round(live, redis, board_id)
    assert report.removed == 2
    assert await served(live, board_id) == [(ids[2], 102)]


async def test_a_digest_that_missed_a_change_by_hand_is_set_from_its_entries(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    """ZINCRBY behind the scripts' back: the rolling check repairs the entry, which leaves
    the digest off by the change it never saw; the next round sets it from the entries."""
    board_id, players = await board_of(live, database_url, 3)
    await settle(database_url, board_id)
    keys = index_keys(settings, board_id)
    seq = await redis.hget(keys.members, players[1])
    assert isinstance(seq, str)
    await redis.zincrby(keys.scores, -500, f"{seq}:{players[1]}")
    # The slice of one entry reaches it within three rounds; the round after, the digest.
    reports = [await one_round(live, redis, board_id) for _ in range(5)]
    assert sum(r.repaired for r in reports) == 1
    assert sum(r.reseeded for r in reports) == 1
    assert await served(live, board_id) == await postgres_ranking(database_url, board_id)
    await assert_digests_agree(live, redis, board_id)


async def test_writes_in_flight_make_no_repairs(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    """Rounds run while players submit: buckets differ for a moment, nothing is repaired."""
    board_id, players = await board_of(live, database_url, 30)
    stop = asyncio.Event()

    async def players_submit() -> int:
        sent = 0
        while not stop.is_set():
            await asyncio.gather(
                *(submit(live.http, board_id, p, 1000 + sent + i) for i, p in enumerate(players))
            )
            sent += len(players)
        return sent

    writer = asyncio.create_task(players_submit())
    reports = [await one_round(live, redis, board_id) for _ in range(4)]
    stop.set()
    assert await writer > 0
    assert [(r.repaired, r.removed, r.rebuilt) for r in reports] == [(0, 0, None)] * 4
    await assert_digests_agree(live, redis, board_id)
