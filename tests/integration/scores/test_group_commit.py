"""Coalesced round trips against real servers: group-committed upserts, pipelined scripts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import asyncpg
import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from leaderboard.boards.models import Board, BoardCreate
from leaderboard.boards.repository import BoardRepository
from leaderboard.lib.db import Database
from leaderboard.lib.errors import DependencyUnavailableError, InvalidInputError, NotFoundError
from leaderboard.lib.scripts import LuaScript, ScriptPipeline
from leaderboard.ops.embedded import EmbeddedValkey
from leaderboard.scores.writer import ScoreWriter, StoredScore, Submission
from tests.calendar import ORDINARY_DAY, noon
from tests.helpers import async_wait_until
from tests.scores_helpers import insert_players

ALL_TIME = date(1970, 1, 1)

# Tests that talk to Redis run on a single node and on a cluster (tests/conftest.py).
pytestmark = pytest.mark.redis_modes
MAX_SCORE = 2**53 - 1

# --------------------------------------------------------------------------------------
# Group-committed score upserts (real Postgres)


async def test_a_group_commit_is_planned_once_per_connection(db: Database) -> None:
    """Postgres would plan the score statement anew on every run of a connection whose
    first runs were small (a custom plan costs more than running it): the commits' own
    connections plan it once; the others keep Postgres' default."""
    board = await new_board(db)
    (player,) = [p for p, _ in await insert_players(db.dsn, 1)]
    writer = ScoreWriter(db)
    for score in range(1, 8):  # past the five custom plans Postgres tries first
        await writer.commit(Submission(board, ALL_TIME, player, score, None))
    (row,) = await db.commit_batch("SELECT current_setting('plan_cache_mode')")
    assert row[0] == "force_generic_plan"
    assert await db.fetchval("SELECT current_setting('plan_cache_mode')") == "auto"
    # Generic: the cached plan of the score statement holds its parameters, not values.
    plans = await db.commit_batch(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
        " WHERE statement LIKE '%INSERT INTO scores AS s%'"
    )
    assert plans, "the score statement is prepared on the commit connection"
    assert all(p["custom_plans"] == 0 and p["generic_plans"] >= 1 for p in plans), plans


async def new_board(db: Database, operator: str = "best", order: str = "desc") -> Board:
    repository = BoardRepository(db)
    spec = BoardCreate(id=f"b-{uuid.uuid4().hex[:12]}", operator=operator, order=order)  # type: ignore[arg-type]
    async with db.transaction() as conn:
        return await repository.create(conn, spec, noon(ORDINARY_DAY))


async def lock_score_row(
    locker: asyncpg.Connection, board: Board, player: str
) -> asyncpg.transaction.Transaction:
    """Hold ``player``'s score row on ``board`` in an open transaction of ``locker``."""
    transaction = locker.transaction()
    await transaction.start()
    await locker.execute(
        "SELECT 1 FROM scores WHERE leaderboard_id = $1 AND player_id = $2 FOR UPDATE",
        board.id,
        uuid.UUID(player),
    )
    return transaction


async def test_one_statement_commits_a_batch_like_the_submissions_one_by_one(
    db: Database, database_url: str
) -> None:
    best, total = await new_board(db, "best"), await new_board(db, "sum", "asc")
    players = [player for player, _ in await insert_players(database_url, 3)]
    writer = ScoreWriter(db)
    plan = [
        Submission(best, ALL_TIME, players[0], 10, None),
        Submission(best, ALL_TIME, players[0], 5, None),  # same key: next round
        Submission(total, ALL_TIME, players[1], 7, {"level": 3}),
        Submission(best, ALL_TIME, players[0], 12, None),  # third round
        Submission(total, ALL_TIME, players[1], -2, None),
        Submission(best, ALL_TIME, players[2], 10, None),
        Submission(total, ALL_TIME, players[2], 0, None),
    ]
    outcomes = await writer.commit_together(plan)
    stored = [s for s in outcomes if isinstance(s, StoredScore)]
    assert len(stored) == len(plan), outcomes
    first = stored[0]
    assert first == StoredScore(
        10, first.reached_seq, changed=True, inserted=True, submission_id=first.submission_id
    )
    # Every accepted submission is in the ledger, each with its own id.
    ids = [s.submission_id for s in stored]
    assert all(isinstance(i, int) for i in ids)
    assert len(set(ids)) == len(ids)
    assert (stored[1].score, stored[1].changed, stored[1].inserted) == (10, False, False)
    assert stored[1].reached_seq == stored[0].reached_seq  # an equal-or-worse best keeps it
    assert (stored[3].score, stored[3].changed) == (12, True)
    assert stored[3].reached_seq > stored[0].reached_seq
    assert (stored[2].score, stored[2].inserted, stored[4].score, stored[4].changed) == (
        7, True, 5, True
    )  # fmt: skip
    assert (stored[6].score, stored[6].inserted, stored[6].changed) == (0, True, True)
    # Arrival order decides who reached 10 first on the best board.
    assert stored[0].reached_seq < stored[5].reached_seq
    rows = await db.fetch(
        "SELECT leaderboard_id, player_id::text, score, submissions, metadata::text"
        " FROM scores WHERE leaderboard_id = ANY($1) ORDER BY 1, 2",
        [best.id, total.id],
    )
    got = {(r["leaderboard_id"], r["player_id"]): tuple(r)[2:] for r in rows}
    assert got == {
        (best.id, players[0]): (12, 3, None),
        (best.id, players[2]): (10, 1, None),
        (total.id, players[1]): (5, 2, '{"level": 3}'),
        (total.id, players[2]): (0, 1, None),
    }


async def test_a_bad_submission_fails_alone_and_the_rest_of_its_batch_commits(
    db: Database, database_url: str
) -> None:
    board = await new_board(db, "sum")
    players = [player for player, _ in await insert_players(database_url, 4)]
    writer = ScoreWriter(db)
    await writer.commit(Submission(board, ALL_TIME, players[1], MAX_SCORE, None))
    plan = [
        Submission(board, ALL_TIME, players[0], 3, None),
        Submission(board, ALL_TIME, str(uuid.uuid4()), 1, None),  # unknown player
        Submission(board, ALL_TIME, players[1], 1, None),  # the sum would leave the range
        Submission(board, ALL_TIME, players[2], 4, None),
    ]
    outcomes = await asyncio.gather(*(writer.commit(s) for s in plan), return_exceptions=True)
    assert isinstance(outcomes[1], NotFoundError)
    assert isinstance(outcomes[2], InvalidInputError)
    assert outcomes[2].field == "score"
    assert [o.score for o in (outcomes[0], outcomes[3]) if isinstance(o, StoredScore)] == [3, 4]
    rows = await db.fetch(
        "SELECT player_id::text, score FROM scores WHERE leaderboard_id = $1", board.id
    )
    assert {r["player_id"]: r["score"] for r in rows} == {
        players[0]: 3,
        players[1]: MAX_SCORE,
        players[2]: 4,
    }


async def test_concurrent_batches_over_shared_players_do_not_deadlock(
    db: Database, database_url: str
) -> None:
    """Several statements in flight lock the same rows, always in key order."""
    board = await new_board(db, "sum")
    players = [player for player, _ in await insert_players(database_url, 20)]
    writers = [ScoreWriter(db) for _ in range(3)]  # like three workers
    plan = [(w, p) for _ in range(10) for w in writers for p in reversed(players)]
    stored = await asyncio.gather(
        *(w.commit(Submission(board, ALL_TIME, p, 1, None)) for w, p in plan)
    )
    assert len(stored) == 600
    totals = await db.fetch(
        "SELECT score FROM scores WHERE leaderboard_id = $1 GROUP BY score", board.id
    )
    assert [r["score"] for r in totals] == [30]


async def test_a_statement_stuck_on_a_lock_does_not_hold_the_other_submissions(
    db: Database, database_url: str
) -> None:
    """Statements follow one another under load (GROUP_COMMIT_OVERLAP_SECONDS); one that
    waits on a row lock lets the next go beside it, so only the locked player's waits."""
    board = await new_board(db, "best")
    stuck, *others = [player for player, _ in await insert_players(database_url, 6)]
    writer = ScoreWriter(db)
    await writer.commit(Submission(board, ALL_TIME, stuck, 1, None))
    locker = await asyncpg.connect(database_url)
    try:
        transaction = await lock_score_row(locker, board, stuck)
        waiting = asyncio.create_task(writer.commit(Submission(board, ALL_TIME, stuck, 2, None)))

        async def statement_waits() -> bool:
            waits = await locker.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            return bool(waits)

        await async_wait_until(statement_waits, 10, "the stuck player's statement to wait")
        stored = await asyncio.wait_for(
            asyncio.gather(
                *(writer.commit(Submission(board, ALL_TIME, p, 5, None)) for p in others)
            ),
            timeout=10,
        )
        assert [s.score for s in stored] == [5] * len(others)
        assert not waiting.done()  # the lock is still held
        await transaction.rollback()
        assert (await asyncio.wait_for(waiting, 10)).score == 2
    finally:
        await locker.close()


async def test_equal_scores_in_one_batch_rank_in_arrival_order_across_rounds(
    db: Database, database_url: str
) -> None:
    """A submits 5 then 10, B then submits 10, all in one batch, on a `latest` board.

    One by one, A reaches 10 before B does, so A ranks first (smaller reached_seq).
    The batch puts A's second submission into round 2, after B's (round 1); the
    sequence numbers must still follow arrival, not rounds.
    """
    board = await new_board(db, "latest", "desc")
    (a, _), (b, _) = await insert_players(database_url, 2)
    writer = ScoreWriter(db)
    plan = [
        Submission(board, ALL_TIME, a, 5, None),
        Submission(board, ALL_TIME, a, 10, None),  # same key: round 2
        Submission(board, ALL_TIME, b, 10, None),  # arrives after A's 10: round 1
    ]
    outcomes = await writer.commit_together(plan)
    stored = [s for s in outcomes if isinstance(s, StoredScore)]
    assert len(stored) == 3
    assert (stored[1].score, stored[2].score) == (10, 10)
    assert stored[1].reached_seq < stored[2].reached_seq  # A reached 10 first


async def test_a_committed_submission_is_never_reported_as_failed(
    db: Database, database_url: str
) -> None:
    """A round [X, BAD, Y] on a `sum` board: BAD's sum leaves the range, so the round
    runs one by one; X commits; then Y's statement fails on a Postgres outage (here: a
    lock wait running into the command timeout). X's caller must not be told 503: X is
    committed, and a client told 503 submits again: twice into the sum.
    """
    board = await new_board(db, "sum")
    ids = sorted(player for player, _ in await insert_players(database_url, 3))
    bad, x, y = ids  # BAD sorts first: its check violation stops the statement before Y
    seed = ScoreWriter(db)
    await seed.commit(Submission(board, ALL_TIME, bad, MAX_SCORE, None))
    await seed.commit(Submission(board, ALL_TIME, y, 1, None))

    locker = await asyncpg.connect(database_url)
    quick = Database(database_url, timeout=1.0)
    await quick.open()
    try:
        transaction = await lock_score_row(locker, board, y)
        writer = ScoreWriter(quick)
        plan = [
            Submission(board, ALL_TIME, x, 7, None),
            Submission(board, ALL_TIME, bad, 1, None),  # the sum would leave the range
            Submission(board, ALL_TIME, y, 1, None),  # its row is locked: times out
        ]
        outcomes = await writer.commit_together(plan)
        await transaction.rollback()
        assert isinstance(outcomes[2], DependencyUnavailableError)  # Y: right
        committed = await locker.fetchval(
            "SELECT score FROM scores WHERE leaderboard_id = $1 AND player_id = $2",
            board.id,
            uuid.UUID(x),
        )
        assert committed == 7  # X is committed ...
        assert isinstance(outcomes[0], StoredScore), outcomes[0]  # ... and must be told so
        assert isinstance(outcomes[1], InvalidInputError), outcomes[1]  # BAD: 400, not 503
    finally:
        await quick.close()
        await locker.close()


# --------------------------------------------------------------------------------------
# Pipelined scripts (real Redis)

INCR_BY = LuaScript(
    "incr_by.lua",
    """
-- KEYS[1] counter   ARGV[1] increment   Returns: the new value
redis.call('PEXPIRE', KEYS[1], 60000)
return redis.call('INCRBY', KEYS[1], ARGV[1])
""",
)


async def test_concurrent_script_calls_share_a_pipeline(
    redis: Redis, redis_key_prefix: str
) -> None:
    pipeline = ScriptPipeline(redis)
    script = pipeline.bind(INCR_BY)
    key = f"{redis_key_prefix}counter"
    results = await asyncio.gather(*(script([key], [1]) for _ in range(200)))
    assert sorted(results) == list(range(1, 201))
    assert pipeline.batcher.batches_sent < 20  # not one round trip per call
    assert await redis.ttl(key) > 0


async def test_a_failing_call_fails_alone(redis: Redis, redis_key_prefix: str) -> None:
    pipeline = ScriptPipeline(redis)
    script = pipeline.bind(INCR_BY)
    counter, text = f"{redis_key_prefix}counter", f"{redis_key_prefix}text"
    await redis.set(text, "not a number", ex=60)
    outcomes = await asyncio.gather(
        *(script([text if i == 3 else counter], [1]) for i in range(6)),
        return_exceptions=True,
    )
    assert isinstance(outcomes[3], ResponseError)
    assert sorted(o for o in outcomes if isinstance(o, int)) == [1, 2, 3, 4, 5]


@pytest.mark.slow
async def test_scripts_are_loaded_again_after_the_server_forgot_them(
    own_valkey: EmbeddedValkey,
) -> None:
    client = Redis.from_url(own_valkey.url, protocol=2, decode_responses=True)
    try:
        pipeline = ScriptPipeline(client)
        script = pipeline.bind(INCR_BY)
        assert await script(["k"], [1]) == 1
        await client.script_flush()  # this test's own server: a restart or failover
        results = await asyncio.gather(*(script(["k"], [1]) for _ in range(10)))
        assert sorted(results) == list(range(2, 12))
        assert pipeline.batcher.batches_sent < 11
    finally:
        await client.aclose()
