"""The index guard never puts an older score back over a submission that raced its reads.

The guard reads a slice of Postgres' rows, then what the index holds for those players.
A submission that commits and reaches the index between the two reads makes its entry
look newer than the row read first (settled, since it had not changed for seconds): the
guard must read that row again rather than "repair" the entry back to the older score.
Each test makes that interleaving happen for real: the rows are read, a submission goes
through the API (its commit and its index write), then the index is read and compared.
"""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from leaderboard.boards.periods import resolve_period
from leaderboard.boards.service import BoardService
from leaderboard.lib.clock import system_clock
from leaderboard.ranking.convergence import repair_disagreeing
from leaderboard.ranking.guard import IndexGuard
from leaderboard.ranking.index import RankIndex
from leaderboard.ranking.records import ScoreRecords
from tests.integration.ranking.conftest import Live
from tests.integration.ranking.test_index_guard import board_of, score_by_hand, served, settle
from tests.scores_helpers import postgres_ranking, submit

pytestmark = pytest.mark.redis_modes


@pytest.fixture
def live(guarded_app: Live) -> Live:
    return guarded_app


def records_of(live: Live) -> ScoreRecords:
    return ScoreRecords(live.services.infra.db, live.services.infra.replica)


async def test_a_submission_between_the_guards_two_reads_is_not_undone(
    live: Live, redis: Redis, database_url: str
) -> None:
    board_id, players = await board_of(live, database_url, 5)
    await settle(database_url, board_id)
    board = await live.services.get(BoardService).get(board_id)
    period = resolve_period(board.reset, None, system_clock())
    records, index = records_of(live), live.services.get(RankIndex)
    rows = await records.rows_after(board, period, "", 100)  # Postgres first: all settled
    assert len(rows) == 5
    assert all(row.settled for row in rows)
    await submit(live.http, board_id, players[0], 500)  # commits, then reaches the index
    held = await index.checks.held(board, period, [row.player_id for row in rows])
    repaired, moved_on = await repair_disagreeing(records, index, board, period, rows, held)
    assert (repaired, moved_on) == (0, 1)
    assert (await served(live, board_id))[0] == (players[0], 500)
    assert await served(live, board_id) == await postgres_ranking(database_url, board_id)


async def test_an_entry_that_still_disagrees_after_the_second_read_is_repaired(
    live: Live, redis: Redis, database_url: str
) -> None:
    """The second read only spares entries that moved on: a real disagreement is mended."""
    board_id, players = await board_of(live, database_url, 5)
    await score_by_hand(database_url, board_id, players[1], 999)
    await settle(database_url, board_id)
    board = await live.services.get(BoardService).get(board_id)
    period = resolve_period(board.reset, None, system_clock())
    records, index = records_of(live), live.services.get(RankIndex)
    rows = await records.rows_after(board, period, "", 100)
    held = await index.checks.held(board, period, [row.player_id for row in rows])
    assert await repair_disagreeing(records, index, board, period, rows, held) == (1, 0)
    assert (await served(live, board_id))[0] == (players[1], 999)


async def test_a_guard_round_beside_a_stream_of_submissions_undoes_none(
    live: Live, redis: Redis, database_url: str
) -> None:
    """Whole rounds while every player keeps submitting higher scores: none goes back."""
    board_id, players = await board_of(live, database_url, 20)
    await settle(database_url, board_id)
    guard = live.services.get(IndexGuard)
    best = {player: 10 * (i + 1) for i, player in enumerate(players)}
    for step in range(1, 6):
        for i, player in enumerate(players):
            best[player] = 1000 * step + i
            await submit(live.http, board_id, player, best[player])
        await settle(database_url, board_id)  # every row looks settled to the next round
        report = await guard.run_once()
        assert sum(p.repaired for p in report.periods) == 0
        assert dict(await served(live, board_id)) == best
    assert await served(live, board_id) == await postgres_ranking(database_url, board_id)
