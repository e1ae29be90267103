"""The ledger's retention: rows past ledger_days go, what they counted stays counted."""

from __future__ import annotations

import pytest

from leaderboard.lib.clock import MovableClock
from leaderboard.lib.db import Database
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from leaderboard.scores.retention import RetentionJob
from tests.conftest import ADMIN, serving
from tests.helpers import sign_in
from tests.integration.submissions.ledger_helpers import history, stored, void
from tests.scores_helpers import create_board, submit

pytestmark = pytest.mark.redis_modes


async def test_the_retention_job_drops_old_rows_and_keeps_what_they_counted(
    settings: Settings, redis: AnyRedis, clock: MovableClock, db: Database
) -> None:
    async with serving(settings, clock=clock) as (http, services):
        board_id = await create_board(http, operator="sum", ledger_days=1, review="all")
        player, headers = await sign_in(http)
        old = [(await submit(http, board_id, player, v))["submission_id"] for v in (5, 7)]
        held = await http.post(
            f"/v1/leaderboards/{board_id}/scores", json={"score": 100}, headers=headers
        )
        assert held.status_code == 202
        # Two days on (by Postgres' clock, which stamps them; ids grow with time, so
        # every row up to the last is as old), they are past a 1-day ledger.
        await db.execute(
            "UPDATE submissions SET submitted_at = submitted_at - interval '2 days'"
            " WHERE id <= $1 AND submitted_at > now() - interval '1 day'",
            max(old),
        )
        report = await services.get(RetentionJob).run_once()
        assert report.ledger_rows[board_id] == 2
        kept = await history(http, board_id, player)
        assert [s["status"] for s in kept] == ["pending"], "held ones wait for a decision"
        unledgered = await db.fetchval(
            "SELECT unledgered FROM scores WHERE leaderboard_id = $1 AND player_id = $2",
            board_id,
            player,
        )
        assert unledgered == 12
        assert (await void(http, old[0])).status_code == 409, "no longer kept"
        new = (await submit(http, board_id, player, 3))["submission_id"]
        assert await stored(http, board_id, player) == 15
        assert (await void(http, new)).status_code == 200
        assert await stored(http, board_id, player) == 12, "the dropped ones still count"
        approve = await http.post(
            f"/v1/submissions/{held.json()['submission_id']}/approve", headers=ADMIN
        )
        assert approve.status_code == 200
        assert await stored(http, board_id, player) == 112
