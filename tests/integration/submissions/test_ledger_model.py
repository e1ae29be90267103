"""Voids against a reference model, for each operator; and voids racing submissions.

The model keeps every submission with whether it still counts; a player's stored score
is the board's operator over their counted submissions, in the order they were made.
Random runs submit, void (also what was voided already, or what the ledger dropped) and
let the ledger drop its oldest rows (retention), and compare the served score after
every step.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.boards.models import Board
from leaderboard.lib.db import Database
from leaderboard.scores.ledger_retention import LedgerRetention
from tests.helpers import sign_in
from tests.integration.submissions.ledger_helpers import stored, void
from tests.scores_helpers import create_board, submit

TestClient = AsyncTestClient[Litestar]
PLAYERS = 3


@dataclass
class Kept:
    sid: int
    player: int
    value: int
    counted: bool = True
    in_ledger: bool = True


@dataclass
class Reference:
    operator: str
    order: str
    submissions: list[Kept] = field(default_factory=list)

    def score(self, player: int) -> int | None:
        result = None
        for kept in self.submissions:
            if kept.player != player or not kept.counted:
                continue
            if result is None or self.operator == "latest":
                result = kept.value
            elif self.operator == "sum":
                result += kept.value
            else:
                pick = max if self.order == "desc" else min
                result = pick(result, kept.value)
        return result


Step = tuple[str, int, int]  # ("submit", player, value) | ("void", pick, 0) | ("drop", n, 0)
STEPS = st.one_of(
    st.tuples(st.just("submit"), st.integers(0, PLAYERS - 1), st.integers(-20, 20)),
    st.tuples(st.just("submit"), st.integers(0, PLAYERS - 1), st.integers(-20, 20)),
    st.tuples(st.just("void"), st.integers(0, 100), st.just(0)),
    st.tuples(st.just("drop"), st.integers(1, 3), st.just(0)),
)


async def board_of(client: TestClient, board_id: str) -> Board:
    response = await client.get(f"/v1/leaderboards/{board_id}")
    return msgspec.convert(response.json(), Board, strict=False)


async def drop_oldest(db: Database, client: TestClient, board_id: str, count: int) -> list[int]:
    """Age the board's ``count`` oldest ledger rows past its window; retention drops them.

    Ids grow with time, and retention relies on it: every row up to the last of them is
    aged (whatever its board), as time would have.
    """
    last = await db.fetchval(
        """
        SELECT max(id) FROM (
            SELECT s.id FROM submissions s JOIN leaderboards l ON l.ledger_key = s.board_key
             WHERE l.id = $1 ORDER BY s.id LIMIT $2) AS oldest
        """,
        board_id,
        count,
    )
    if last is None:
        return []
    await db.execute(
        """
        UPDATE submissions SET submitted_at = now() - interval '400 days'
         WHERE id <= $1 AND submitted_at > now() - interval '300 days'
        """,
        last,
    )
    retention = LedgerRetention(db, batch_size=2)
    board = await board_of(client, board_id)
    before = await db.fetch(
        "SELECT s.id FROM submissions s JOIN leaderboards l ON l.ledger_key = s.board_key"
        " WHERE l.id = $1",
        board_id,
    )
    while (await retention.drop_batch(board) or 0) == 2:
        pass
    after = await db.fetch(
        "SELECT s.id FROM submissions s JOIN leaderboards l ON l.ledger_key = s.board_key"
        " WHERE l.id = $1",
        board_id,
    )
    gone = {row["id"] for row in before} - {row["id"] for row in after}
    assert gone == {row["id"] for row in before if row["id"] <= last}
    return sorted(gone)


@pytest.mark.redis_modes
@hypothesis_settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from([("best", "desc"), ("best", "asc"), ("latest", "desc"), ("sum", "asc")]),
    steps=st.lists(STEPS, min_size=1, max_size=16),
)
async def test_voids_follow_the_reference_model(
    client: TestClient, db: Database, kind: tuple[str, str], steps: list[Step]
) -> None:
    operator, order = kind
    board_id = await create_board(client, operator=operator, order=order)
    players = [(await sign_in(client))[0] for _ in range(PLAYERS)]
    model = Reference(operator, order)
    for n, (action, a, b) in enumerate(steps):
        if action == "submit":
            sid = (await submit(client, board_id, players[a], b))["submission_id"]
            model.submissions.append(Kept(sid, a, b))
        elif action == "void" and model.submissions:
            kept = model.submissions[a % len(model.submissions)]
            answer = await void(client, kept.sid)
            expected = 200 if kept.counted and kept.in_ledger else 409
            assert answer.status_code == expected, f"step {n}: {answer.text}"
            kept.counted = kept.counted and not kept.in_ledger
        elif action == "drop":
            dropped = set(await drop_oldest(db, client, board_id, a))
            for kept in model.submissions:
                kept.in_ledger = kept.in_ledger and kept.sid not in dropped
        for i, player in enumerate(players):
            assert await stored(client, board_id, player) == model.score(i), (
                f"step {n} ({action} {a} {b}), player {i}: {operator}/{order}"
            )


@pytest.mark.redis_modes
@pytest.mark.parametrize("operator", ["best", "latest", "sum"])
async def test_a_void_and_the_players_new_submissions_serialise(
    live: httpx.AsyncClient, db: Database, operator: str
) -> None:
    """Submissions of the player arriving while a void recomputes: the end is exact."""
    client = live
    board_id = await create_board(client, operator=operator)
    player, _ = await sign_in(client)
    first = [(await submit(client, board_id, player, v))["submission_id"] for v in (50, 7, 90)]
    for round_ in range(3):
        values = [round_ * 10 + i for i in range(8)]
        await asyncio.gather(
            void(client, first[round_]),
            *(submit(client, board_id, player, v) for v in values),
        )
        counted = await db.fetch(
            """
            SELECT s.score FROM submissions s JOIN leaderboards l ON l.ledger_key = s.board_key
             WHERE l.id = $1 AND COALESCE(s.details->>'status', 'approved') = 'approved'
             ORDER BY s.id
            """,
            board_id,
        )
        scores = [row["score"] for row in counted]
        want = {"best": max(scores), "latest": scores[-1], "sum": sum(scores)}[operator]
        assert await stored(client, board_id, player) == want
        row = await db.fetchrow(
            "SELECT score FROM scores WHERE leaderboard_id = $1 AND player_id = $2",
            board_id,
            player,
        )
        assert row is not None
        assert row["score"] == want
