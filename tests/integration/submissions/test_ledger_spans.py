"""The ledger on a board of several spans: approvals, voids and retention reach each span."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from leaderboard.boards.periods import period_start
from leaderboard.lib.clock import MovableClock
from leaderboard.lib.db import Database
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from leaderboard.scores.retention import RetentionJob
from tests.conftest import ADMIN, serving
from tests.helpers import sign_in
from tests.integration.submissions.ledger_helpers import void
from tests.scores_helpers import create_board, submit

pytestmark = pytest.mark.redis_modes
SPANS = ["daily", "weekly", "never"]


async def scores_of(
    http: httpx.AsyncClient, board_id: str, player: str, spans: list[str] = SPANS, **params: Any
) -> dict[str, int | None]:
    """The player's score in each of ``spans`` (None: no entry)."""
    found: dict[str, int | None] = {}
    for span in spans:
        response = await http.get(
            f"/v1/leaderboards/{board_id}/players/{player}", params={"span": span, **params}
        )
        assert response.status_code in (200, 404), response.text
        found[span] = response.json()["score"] if response.status_code == 200 else None
    return found


async def test_a_void_recomputes_every_span(
    settings: Settings, redis: AnyRedis, clock: MovableClock
) -> None:
    async with serving(settings, clock=clock) as (http, _):
        board_id = await create_board(http, reset="daily", spans=SPANS, operator="sum")
        player, _ = await sign_in(http)
        day0 = clock().date()
        first = [(await submit(http, board_id, player, v))["submission_id"] for v in (5, 7)]
        clock.set(clock() + timedelta(days=1))
        await submit(http, board_id, player, 3)
        same_week = period_start("weekly", day0) == period_start("weekly", clock().date())
        assert await scores_of(http, board_id, player) == {
            "daily": 3, "weekly": 15 if same_week else 3, "never": 15,
        }  # fmt: skip
        voided = await void(http, first[1])
        assert voided.status_code == 200, voided.text
        assert await scores_of(http, board_id, player) == {
            "daily": 3, "weekly": 8 if same_week else 3, "never": 8,
        }  # fmt: skip
        on_day0 = {"period": day0.isoformat()}
        assert await scores_of(http, board_id, player, ["daily"], **on_day0) == {"daily": 5}
        # The last submission of day 0 voided too: its daily entry goes, the rest stays.
        assert (await void(http, first[0])).status_code == 200
        assert await scores_of(http, board_id, player, ["daily"], **on_day0) == {"daily": None}
        assert (await scores_of(http, board_id, player))["never"] == 3


async def test_an_approval_counts_in_every_span(
    settings: Settings, redis: AnyRedis, clock: MovableClock
) -> None:
    async with serving(settings, clock=clock) as (http, _):
        board_id = await create_board(http, reset="daily", spans=SPANS, review="all")
        player, headers = await sign_in(http)
        held = await http.post(
            f"/v1/leaderboards/{board_id}/scores", json={"score": 40}, headers=headers
        )
        assert held.status_code == 202, held.text
        assert await scores_of(http, board_id, player) == dict.fromkeys(SPANS)
        approved = await http.post(
            f"/v1/submissions/{held.json()['submission_id']}/approve", headers=ADMIN
        )
        assert approved.status_code == 200, approved.text
        assert await scores_of(http, board_id, player) == dict.fromkeys(SPANS, 40)


async def test_what_the_ledger_drops_still_counts_in_every_span(
    settings: Settings, redis: AnyRedis, clock: MovableClock, db: Database
) -> None:
    async with serving(settings, clock=clock) as (http, services):
        board_id = await create_board(
            http, reset="daily", spans=SPANS, operator="sum", ledger_days=1
        )
        player, _ = await sign_in(http)
        old = [(await submit(http, board_id, player, v))["submission_id"] for v in (5, 7)]
        await db.execute(
            "UPDATE submissions SET submitted_at = submitted_at - interval '2 days'"
            " WHERE id <= $1 AND submitted_at > now() - interval '1 day'",
            max(old),
        )
        report = await services.get(RetentionJob).run_once()
        assert report.ledger_rows[board_id] == 2
        folded = await db.fetch(
            "SELECT span, unledgered FROM scores WHERE leaderboard_id = $1 AND player_id = $2"
            " ORDER BY span",
            board_id,
            player,
        )
        assert [(row["span"], row["unledgered"]) for row in folded] == [(0, 12), (1, 12), (2, 12)]
        new = (await submit(http, board_id, player, 3))["submission_id"]
        assert await scores_of(http, board_id, player) == dict.fromkeys(SPANS, 15)
        assert (await void(http, new)).status_code == 200
        assert await scores_of(http, board_id, player) == dict.fromkeys(SPANS, 12)
