"""Scores against the contract's ranking rule: a reference model, ties, races, bad input.

Everything runs against the real app over a real Postgres and Redis. The property test
drives random submissions through the HTTP API and compares every answer, every page of
``top``, every player's entry and ``around`` windows with an in-memory model of the
contract: rank 1 is the best, ranks are unique and gap-free, and equal scores are ordered
by who reached that score first.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.boards.models import MAX_SCORE
from leaderboard.boards.periods import ALL_TIME
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.ranking.scripts import IndexScripts
from leaderboard.ranking.values import IndexNotReadyError, member_for, seq_hex
from leaderboard.scores.upsert_sql import UpsertRow, upsert_arrays, upsert_sql
from tests.conftest import ADMIN
from tests.helpers import async_wait_until, sign_in
from tests.scores_helpers import (
    Client,
    create_board,
    insert_players,
    new_board_id,
    submit,
    top,
)

TestClient = AsyncTestClient[Litestar]  # the `client` fixture (requests run one at a time)


# --------------------------------------------------------------------------------------
# The reference model


@dataclass
class Stored:
    score: int
    reached: int  # index of the submission that last changed the stored score


@dataclass
class Model:
    operator: str
    order: str
    entries: dict[str, Stored] = field(default_factory=dict)
    submissions: int = 0

    def ranking(self) -> list[tuple[str, int]]:
        """(player, score), best first: better score, then who reached it first."""
        sign = -1 if self.order == "desc" else 1
        ordered = sorted(self.entries.items(), key=lambda kv: (sign * kv[1].score, kv[1].reached))
        return [(player, stored.score) for player, stored in ordered]

    def rank_of(self, player: str) -> int:
        return [p for p, _ in self.ranking()].index(player) + 1

    def to_next(self, player: str) -> int | None:
        """The fewest points that, added (desc) or taken away (asc) now, move the player
        above the entry ranked just above: found by trying, not by a formula."""
        rank = self.rank_of(player)
        if rank == 1:
            return None
        step = 1 if self.order == "desc" else -1
        mine = self.entries[player].score
        low, high = 1, abs(self.ranking()[rank - 2][1] - mine) + 2

        def passes(points: int) -> bool:
            trial = Model(self.operator, self.order, dict(self.entries), self.submissions + 1)
            trial.entries[player] = Stored(mine + step * points, trial.submissions)
            return trial.rank_of(player) < rank

        assert passes(high)
        while low < high:
            middle = (low + high) // 2
            if passes(middle):
                high = middle
            else:
                low = middle + 1
        return low

    def percentile(self, player: str) -> float:
        below = len(self.entries) - self.rank_of(player)
        others = len(self.entries) - 1
        return 100.0 if others == 0 else round(100 * below / others, 2)

    def combine(self, old: int, new: int) -> int:
        if self.operator == "latest":
            return new
        if self.operator == "sum":
            return old + new
        return max(old, new) if self.order == "desc" else min(old, new)

    def submit(self, player: str, score: int) -> dict[str, Any]:
        """Apply a submission; the response the contract asks for."""
        self.submissions += 1
        before = self.entries.get(player)
        previous_rank = self.rank_of(player) if before is not None else None
        if before is None:
            self.entries[player] = Stored(score, self.submissions)
            changed = True
        else:
            new = self.combine(before.score, score)
            changed = new != before.score
            if changed:
                self.entries[player] = Stored(new, self.submissions)
        return {
            "player_id": player,
            "score": self.entries[player].score,
            "rank": self.rank_of(player),
            "previous_rank": previous_rank,
            "previous_score": None if before is None else before.score,
            "changed": changed,
        }


# --------------------------------------------------------------------------------------
# 1. Property-based: random boards and submissions against the model

SMALL = st.integers(min_value=-5, max_value=5)
HUGE = st.sampled_from([MAX_SCORE, MAX_SCORE - 1, -MAX_SCORE, -MAX_SCORE + 1])
MAX_PLAYERS = 8
MAX_SUBMISSIONS = 14


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str, str, int, list[tuple[int, int]]]:
    operator = draw(st.sampled_from(["best", "latest", "sum"]))
    order = draw(st.sampled_from(["desc", "asc"]))
    players = draw(st.integers(min_value=2, max_value=MAX_PLAYERS))
    if operator == "sum":
        # Large enough to matter, small enough that no sum of MAX_SUBMISSIONS of them
        # leaves |score| <= 2^53 - 1 (14 * 2^49 < 2^53 - 1).
        big = st.sampled_from([10**12, -(10**12), 2**49, -(2**49)])
        score = st.one_of(SMALL, SMALL, SMALL, big)
    else:
        score = st.one_of(SMALL, SMALL, SMALL, HUGE)
    steps = draw(
        st.lists(
            st.tuples(st.integers(min_value=0, max_value=players - 1), score),
            min_size=1,
            max_size=MAX_SUBMISSIONS,
        )
    )
    return operator, order, players, steps


@pytest.fixture
async def model_players(client: TestClient) -> list[tuple[str, str]]:
    """Players for the property test, made once per test function: (id, display name)."""
    made = []
    for i in range(MAX_PLAYERS):
        name = f"Model-{i}"
        player_id, _ = await sign_in(client, display_name=name)
        made.append((player_id, name))
    return made


@pytest.mark.slow  # 150 examples, ~15 s: the full lane runs it
@pytest.mark.redis_modes
@hypothesis_settings(
    max_examples=150,
    deadline=None,
    database=None,  # no example database in the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
async def test_submissions_and_reads_follow_the_reference_model(
    client: TestClient,
    model_players: list[tuple[str, str]],
    scenario: tuple[str, str, int, list[tuple[int, int]]],
) -> None:
    operator, order, count, steps = scenario
    players = model_players[:count]
    names = dict(players)
    board_id = await create_board(client, operator=operator, order=order)
    model = Model(operator, order)

    for step, (who, score) in enumerate(steps):
        player_id = players[who][0]
        expected = model.submit(player_id, score)
        got = await submit(client, board_id, player_id, score)
        assert isinstance(got["submission_id"], int)
        # A board of one span: its answer under `spans` is the answer's own.
        fields = ("score", "rank", "previous_score", "previous_rank", "changed")
        span = {"period": None, **{field: expected[field] for field in fields}}
        assert got == {
            **expected,
            "leaderboard": board_id,
            "period": None,
            "submission_id": got["submission_id"],
            "spans": {"never": span},
        }, f"submission #{step + 1} ({operator}/{order}): {score} for player {who}"

    ranking = model.ranking()
    total = len(ranking)
    expected_ranking = [
        {"rank": i + 1, "player_id": p, "display_name": names[p], "score": s}
        for i, (p, s) in enumerate(ranking)
    ]
    # Every page of several page sizes, plus one past the end.
    for limit in (1, 2, 3, 1000):
        for offset in [*range(0, total + 1, limit), total + 3]:
            page = await top(client, board_id, limit=limit, offset=offset)
            assert page["leaderboard"] == board_id
            assert page["period"] is None
            assert page["total"] == total
            assert page["entries"] == expected_ranking[offset : offset + limit], (
                f"top limit={limit} offset={offset}"
            )

    for player_id, name in players:
        entry = await client.get(f"/v1/leaderboards/{board_id}/players/{player_id}")
        around = await client.get(
            f"/v1/leaderboards/{board_id}/players/{player_id}/around", params={"radius": 1}
        )
        if player_id not in model.entries:
            assert entry.status_code == 404, entry.text
            assert around.status_code == 404, around.text
            continue
        assert entry.status_code == 200, entry.text
        rank = model.rank_of(player_id)
        assert entry.json() == {
            "player_id": player_id,
            "display_name": name,
            "score": model.entries[player_id].score,
            "rank": rank,
            "position": rank,  # ordinal ranks: the place in the order
            "total": total,
            "leaderboard": board_id,
            "span": "never",
            "period": None,
            "percentile": model.percentile(player_id),
            "to_next": model.to_next(player_id),
        }
        for radius in (0, 1, 2, 5):
            response = await client.get(
                f"/v1/leaderboards/{board_id}/players/{player_id}/around",
                params={"radius": radius},
            )
            assert response.status_code == 200, response.text
            first = max(0, rank - 1 - radius)
            assert response.json() == {
                "leaderboard": board_id,
                "span": "never",
                "period": None,
                "total": total,
                "entries": expected_ranking[first : rank + radius],
            }, f"around rank {rank} radius {radius}"


# --------------------------------------------------------------------------------------
# 2. Ties: who reached the score first ranks first


async def order_on(client: Client, board_id: str) -> list[str]:
    return [entry["player_id"] for entry in (await top(client, board_id))["entries"]]


@pytest.mark.redis_modes
@pytest.mark.parametrize("order", ["desc", "asc"])
async def test_equal_best_scores_rank_by_who_reached_them_first(
    client: TestClient, order: str
) -> None:
    board_id = await create_board(client, operator="best", order=order)
    a, _ = await sign_in(client)
    b, _ = await sign_in(client)

    await submit(client, board_id, a, 100)
    second = await submit(client, board_id, b, 100)
    assert second["rank"] == 2
    assert await order_on(client, board_id) == [a, b]

    again = await submit(client, board_id, a, 100)
    assert again["changed"] is False
    assert (again["score"], again["rank"], again["previous_rank"]) == (100, 1, 1)
    assert again["previous_score"] == 100
    # A worse best changes nothing either.
    worse = await submit(client, board_id, a, 99 if order == "desc" else 101)
    assert worse["changed"] is False
    assert (worse["score"], worse["rank"]) == (100, 1)
    assert await order_on(client, board_id) == [a, b]

    # C reaches 100 last and ranks last among the three.
    c, _ = await sign_in(client)
    third = await submit(client, board_id, c, 100)
    assert third["rank"] == 3
    assert await order_on(client, board_id) == [a, b, c]


@pytest.mark.redis_modes
async def test_equal_latest_scores_rank_by_who_reached_them_first(client: TestClient) -> None:
    board_id = await create_board(client, operator="latest")
    a, _ = await sign_in(client)
    b, _ = await sign_in(client)

    await submit(client, board_id, a, 100)
    await submit(client, board_id, b, 100)
    assert await order_on(client, board_id) == [a, b]

    # Resubmitting the same latest score keeps A where it reached 100 first.
    same = await submit(client, board_id, a, 100)
    assert same["changed"] is False
    assert (same["rank"], same["previous_rank"], same["previous_score"]) == (1, 1, 100)
    assert await order_on(client, board_id) == [a, b]

    # A leaves 100 and comes back: now B reached 100 first.
    down = await submit(client, board_id, a, 99)
    assert down["changed"] is True
    assert (down["rank"], down["previous_rank"], down["previous_score"]) == (2, 1, 100)
    back = await submit(client, board_id, a, 100)
    assert back["changed"] is True
    assert (back["rank"], back["previous_rank"]) == (2, 2)
    assert await order_on(client, board_id) == [b, a]


@pytest.mark.redis_modes
async def test_a_sum_of_zero_does_not_move_the_player(client: TestClient) -> None:
    board_id = await create_board(client, operator="sum")
    a, _ = await sign_in(client)
    b, _ = await sign_in(client)
    await submit(client, board_id, a, 60)
    await submit(client, board_id, b, 100)
    await submit(client, board_id, a, 40)  # A reaches 100 after B
    assert await order_on(client, board_id) == [b, a]

    zero = await submit(client, board_id, b, 0)
    assert zero["changed"] is False
    assert (zero["score"], zero["rank"], zero["previous_rank"]) == (100, 1, 1)
    assert await order_on(client, board_id) == [b, a]


# --------------------------------------------------------------------------------------
# 3. The index refuses an older change that arrives after a newer one


@pytest.mark.redis_modes
async def test_index_refuses_out_of_order_changes(redis: AnyRedis, redis_key_prefix: str) -> None:
    board_id = new_board_id()
    keys = Keys(redis_key_prefix).index(board_id, "all")
    index = IndexScripts(ScriptPipeline(redis))
    player, other = str(uuid.uuid4()), str(uuid.uuid4())

    with pytest.raises(IndexNotReadyError):
        await index.apply(keys, order="desc", player_id=player, score=50, reached_seq=7, ttl_ms=0)
    assert await redis.exists(keys.scores) == 0

    await redis.set(keys.ready, "1")
    newer = await index.apply(
        keys, order="desc", player_id=player, score=50, reached_seq=7, ttl_ms=0
    )
    assert newer.written is True
    assert (newer.rank, newer.score, newer.total) == (1, 50, 1)
    assert (newer.previous_rank, newer.previous_score) == (None, None)

    older = await index.apply(
        keys, order="desc", player_id=player, score=10, reached_seq=5, ttl_ms=0
    )
    assert older.written is False
    assert (older.rank, older.score, older.total) == (1, 50, 1)
    assert (older.previous_rank, older.previous_score) == (1, 50)

    # The same change twice is a no-op as well.
    repeated = await index.apply(
        keys, order="desc", player_id=player, score=50, reached_seq=7, ttl_ms=0
    )
    assert repeated.written is False

    # A second player below (desc: 30 < 50), then one above.
    below = await index.apply(
        keys, order="desc", player_id=other, score=30, reached_seq=8, ttl_ms=0
    )
    assert (below.written, below.rank, below.total) == (True, 2, 2)
    above = await index.apply(
        keys, order="desc", player_id=other, score=80, reached_seq=9, ttl_ms=0
    )
    assert (above.written, above.rank, above.previous_rank, above.previous_score) == (
        True,
        1,
        2,
        30,
    )
    assert (above.score, above.total) == (80, 2)
    stale = await index.apply(
        keys, order="desc", player_id=other, score=1000, reached_seq=8, ttl_ms=0
    )
    assert (stale.written, stale.rank, stale.score) == (False, 1, 80)

    page = await index.top(keys, "desc", 0, 10)
    assert (page.total, page.first_rank) == (2, 1)
    assert page.entries == [(other, 80), (player, 50)]
    assert await redis.hlen(keys.members) == 2
    assert await redis.zcard(keys.scores) == 2
    assert await redis.hget(keys.members, other) == seq_hex(9)  # the sequence, not the member


@pytest.mark.redis_modes
async def test_an_index_whose_hash_holds_whole_members_still_works(
    redis: AnyRedis, redis_key_prefix: str
) -> None:
    """Indexes written before the hash held only sequences: read, applied, removed alike."""
    keys = Keys(redis_key_prefix).index(new_board_id(), "all")
    index = IndexScripts(ScriptPipeline(redis))
    old, gone, new = (str(uuid.uuid4()) for _ in range(3))
    await redis.zadd(keys.scores, {member_for(3, old): -50, member_for(4, gone): -40})
    await redis.hset(keys.members, mapping={old: member_for(3, old), gone: member_for(4, gone)})
    # The distinct scores came later still; an index without them is rebuilt (D-038).
    await redis.zadd(keys.distinct, {"-50": -50, "-40": -40})
    await redis.set(keys.ready, "1")

    around = await index.around(keys, "desc", old, 0)
    assert (around.player_rank, around.entries) == (1, [(old, 50)])
    stale = await index.apply(keys, order="desc", player_id=old, score=10, reached_seq=2, ttl_ms=0)
    assert (stale.written, stale.score, stale.previous_rank) == (False, 50, 1)
    moved = await index.apply(keys, order="desc", player_id=old, score=30, reached_seq=5, ttl_ms=0)
    assert (moved.written, moved.rank, moved.previous_rank, moved.previous_score) == (
        True, 2, 1, 50
    )  # fmt: skip
    assert await redis.zscore(keys.scores, member_for(3, old)) is None  # the old member went
    await index.remove(keys, gone)
    await index.apply(keys, order="desc", player_id=new, score=60, reached_seq=6, ttl_ms=0)
    page = await index.top(keys, "desc", 0, 10)
    assert page.entries == [(new, 60), (old, 30)]
    assert await redis.zcard(keys.scores) == 2


# --------------------------------------------------------------------------------------
# 4. Concurrent sums are exact


@pytest.mark.redis_modes
@pytest.mark.parametrize(
    "in_flight",
    [
        pytest.param(600, id="all-600-at-once"),
        pytest.param(40, id="40-in-flight"),
    ],
)
async def test_concurrent_sum_submissions_are_exact(
    live: Client, database_url: str, in_flight: int
) -> None:
    """40 players x 15 sums, submitted concurrently: totals and ranks exact everywhere.

    ``all-600-at-once`` is the contract's load: one worker, 600 requests in flight.
    ``40-in-flight`` checks the same exactness with fewer requests in flight at once.
    """
    client = live
    board_id = await create_board(client, operator="sum")
    players = await insert_players(database_url, 40)
    rng = random.Random(20260101)
    plan = [
        (player_id, rng.choice([v for v in range(-1000, 1001) if v != 0]))
        for player_id, _ in players
        for _ in range(15)
    ]
    rng.shuffle(plan)
    expected: dict[str, int] = dict.fromkeys((player_id for player_id, _ in players), 0)
    for player_id, value in plan:
        expected[player_id] += value
    gate = asyncio.Semaphore(in_flight)

    async def post(player_id: str, value: int) -> tuple[int, str]:
        async with gate:
            response = await client.post(
                f"/v1/leaderboards/{board_id}/scores",
                json={"score": value, "player_id": player_id},
                headers=ADMIN,
            )
        return response.status_code, response.text

    answers = await asyncio.gather(*(post(p, v) for p, v in plan))
    failed = [text for status, text in answers if status != 200]
    assert not failed, (
        f"{len(failed)} of {len(plan)} submissions failed, for example: {sorted(set(failed))[:3]}"
    )

    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            """
            SELECT player_id::text AS player, score, submissions FROM scores
             WHERE leaderboard_id = $1 ORDER BY score DESC, reached_seq ASC
            """,
            board_id,
        )
    finally:
        await conn.close()
    assert {row["player"]: row["score"] for row in rows} == expected
    assert {row["submissions"] for row in rows} == {15}

    wrong = {}
    for rank, row in enumerate(rows, start=1):
        response = await client.get(f"/v1/leaderboards/{board_id}/players/{row['player']}")
        assert response.status_code == 200, response.text
        entry = response.json()
        if (entry["score"], entry["rank"], entry["total"]) != (expected[row["player"]], rank, 40):
            wrong[row["player"]] = {
                "postgres": (expected[row["player"]], rank),
                "api": (entry["score"], entry["rank"]),
            }
    assert not wrong, f"the index disagrees with Postgres for {len(wrong)} players: {wrong}"

    page = await top(client, board_id, limit=100)
    assert page["total"] == 40
    assert [(e["rank"], e["player_id"], e["score"]) for e in page["entries"]] == [
        (rank, row["player"], row["score"]) for rank, row in enumerate(rows, start=1)
    ]


async def waiting_for_a_row_lock(database_url: str) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        waiting = await conn.fetchval(
            """
            SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'
               AND query LIKE '%WITH i AS MATERIALIZED%'
            """  # the upsert's start: pg_stat_activity keeps a query's first 1 KiB only
        )
    finally:
        await conn.close()
    return int(waiting) > 0


@pytest.mark.redis_modes
async def test_a_submission_that_waited_for_the_row_lock_reaches_the_index(
    live: Client, database_url: str, redis: AnyRedis, redis_key_prefix: str
) -> None:
    """Per player, the index must end with the change Postgres committed last.

    Two submissions A and B of one player: A draws its ``reached_seq`` first, B takes
    the row lock first and commits first, then A commits on top of B (a sum: A's stored
    score includes B's). The index must show A's score. Here a connection of the test
    plays the worker of B (the service's own upsert statement, then the index script,
    as ``ScoreService.submit`` does), and holds the row lock from before A starts, so
    that the interleaving is certain rather than left to the scheduler.
    """
    client = live
    board_id = await create_board(client, operator="sum")
    ((player_id, _),) = await insert_players(database_url, 1)
    await submit(client, board_id, player_id, 10)

    other_worker = await asyncpg.connect(database_url)
    try:
        transaction = other_worker.transaction()
        await transaction.start()
        await other_worker.execute(
            "SELECT 1 FROM scores WHERE leaderboard_id = $1 AND player_id = $2 FOR UPDATE",
            board_id,
            uuid.UUID(player_id),
        )
        a = asyncio.create_task(submit(client, board_id, player_id, 1))
        await async_wait_until(
            lambda: waiting_for_a_row_lock(database_url), 10, "A to wait for the row lock"
        )
        b = await other_worker.fetchrow(
            upsert_sql("sum", "desc"),
            *upsert_arrays(
                [UpsertRow(board=board_id, period=ALL_TIME, player=player_id, submitted=2)]
            ),
        )
        assert b is not None
        await transaction.commit()
    finally:
        await other_worker.close()
    keys = Keys(redis_key_prefix).index(board_id, "all")
    await IndexScripts(ScriptPipeline(redis)).apply(
        keys,
        order="desc",
        player_id=player_id,
        score=b["score"],
        reached_seq=b["reached_seq"],
        ttl_ms=0,
    )
    a_result = await a
    assert b["score"] == 12
    assert a_result["score"] == 13  # committed after B, on top of it

    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT score, reached_seq FROM scores WHERE leaderboard_id = $1 AND player_id = $2",
            board_id,
            uuid.UUID(player_id),
        )
    finally:
        await conn.close()
    assert row is not None
    assert row["score"] == 13
    entry = (await client.get(f"/v1/leaderboards/{board_id}/players/{player_id}")).json()
    assert entry["score"] == 13, (
        f"Postgres holds 13 (reached_seq {row['reached_seq']}) but the index kept B's 12 "
        f"(reached_seq {b['reached_seq']}): A's change was refused as older"
    )
    assert row["reached_seq"] > b["reached_seq"], "the last committed change has a lower seq"


# --------------------------------------------------------------------------------------
# 5. Bad input is refused and writes nothing


async def score_rows(database_url: str, board_id: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM scores WHERE leaderboard_id = $1", board_id)
        )
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("body", "field_name"),
    [
        pytest.param({"score": 1.5}, "score", id="float"),
        pytest.param({"score": "10"}, "score", id="numeric-string"),
        pytest.param({"score": True}, "score", id="bool"),
        pytest.param({"score": None}, "score", id="null"),
        pytest.param({"score": MAX_SCORE + 1}, "score", id="above-2^53-1"),
        pytest.param({"score": -MAX_SCORE - 1}, "score", id="below-minus-2^53-1"),
        pytest.param({"score": 10**30}, "score", id="huge"),
        pytest.param({}, "score", id="missing"),
        pytest.param({"score": 5, "bonus": 1}, "bonus", id="unknown-field"),
        pytest.param({"score": 5, "metadata": [1]}, "metadata", id="metadata-not-object"),
        pytest.param(b'{"score": NaN}', None, id="NaN"),
        pytest.param(b'{"score": Infinity}', None, id="Infinity"),
        pytest.param(b'{"score": -Infinity}', None, id="-Infinity"),
        pytest.param(b'{"score": 5', None, id="truncated"),
        pytest.param(b"[5]", None, id="not-an-object"),
    ],
)
async def test_bad_score_bodies_are_refused_without_writing(
    client: TestClient, database_url: str, body: dict[str, Any] | bytes, field_name: str | None
) -> None:
    board_id = await create_board(client)
    player_id, headers = await sign_in(client)
    url = f"/v1/leaderboards/{board_id}/scores"
    if isinstance(body, bytes):
        response = await client.post(
            url, content=body, headers={**headers, "content-type": "application/json"}
        )
    else:
        response = await client.post(url, json=body, headers=headers)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["status_code"] == 400
    if field_name is not None:
        assert field_name in payload["detail"], payload
    assert (await top(client, board_id))["total"] == 0
    assert await score_rows(database_url, board_id) == 0
    missing = await client.get(f"/v1/leaderboards/{board_id}/players/{player_id}")
    assert missing.status_code == 404


@pytest.mark.redis_modes
async def test_a_sum_leaving_the_range_is_refused(client: TestClient, database_url: str) -> None:
    board_id = await create_board(client, operator="sum")
    player_id, headers = await sign_in(client)
    first = await client.post(
        f"/v1/leaderboards/{board_id}/scores", json={"score": MAX_SCORE}, headers=headers
    )
    assert first.status_code == 200, first.text
    over = await client.post(
        f"/v1/leaderboards/{board_id}/scores", json={"score": 1}, headers=headers
    )
    assert over.status_code == 400, over.text
    assert "score" in over.json()["detail"]
    assert over.json().get("field") == "score"
    entry = (await client.get(f"/v1/leaderboards/{board_id}/players/{player_id}")).json()
    assert (entry["score"], entry["total"]) == (MAX_SCORE, 1)


@pytest.mark.redis_modes
async def test_who_may_submit_and_for_whom(client: TestClient, database_url: str) -> None:
    board_id = await create_board(client)
    url = f"/v1/leaderboards/{board_id}/scores"
    alice, alice_headers = await sign_in(client)
    bob, _ = await sign_in(client)

    async def refused(
        status: int, body: dict[str, Any], headers: dict[str, str], path: str = url
    ) -> dict[str, Any]:
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == status, response.text
        payload: dict[str, Any] = response.json()
        assert payload["status_code"] == status
        return payload

    # No token, a bad token.
    await refused(401, {"score": 5}, {})
    await refused(401, {"score": 5}, {"Authorization": "Bearer nope"})
    # The admin must name the player, and the player must exist.
    payload = await refused(400, {"score": 5}, ADMIN)
    assert "player_id" in payload["detail"]
    assert payload.get("field") == "player_id"
    await refused(404, {"score": 5, "player_id": str(uuid.uuid4())}, ADMIN)
    await refused(404, {"score": 5, "player_id": "not-a-uuid"}, ADMIN)
    # A player may not submit for somebody else.
    await refused(403, {"score": 5, "player_id": bob}, alice_headers)
    # Unknown board, for the admin and for a player.
    await refused(404, {"score": 5, "player_id": alice}, ADMIN, "/v1/leaderboards/t-nope/scores")
    await refused(404, {"score": 5}, alice_headers, f"/v1/leaderboards/{new_board_id()}/scores")

    assert (await top(client, board_id))["total"] == 0
    assert await score_rows(database_url, board_id) == 0

    # And the allowed ways do write: a player for themselves (with or without naming
    # themselves), the admin for anyone.
    own = await client.post(url, json={"score": 5, "player_id": alice}, headers=alice_headers)
    assert own.status_code == 200, own.text
    by_admin = await client.post(url, json={"score": 7, "player_id": bob}, headers=ADMIN)
    assert by_admin.status_code == 200, by_admin.text
    assert (await top(client, board_id))["total"] == 2
    assert await score_rows(database_url, board_id) == 2
