"""PATCH /v1/leaderboards/{id}: a board's rules change, at once in every worker, audited."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from leaderboard.lib.clock import MovableClock
from tests.conftest import ADMIN
from tests.helpers import assert_error_shape
from tests.scores_helpers import create_board, post_score

pytestmark = pytest.mark.redis_modes
Http = httpx.AsyncClient


def later(clock: MovableClock, hours: float) -> str:
    """A moment ``hours`` after the service's clock reads now."""
    return (clock() + timedelta(hours=hours)).isoformat()


async def patch(http: Http, board_id: str, body: dict[str, Any]) -> httpx.Response:
    return await http.patch(f"/v1/leaderboards/{board_id}", json=body, headers=ADMIN)


async def new_player(http: Http) -> str:
    response = await http.post("/v1/players", json={}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(response.json()["player_id"])


async def test_every_changeable_rule_is_changed_and_shown(workers: tuple[Http, Http]) -> None:
    a, _ = workers
    board_id = await create_board(a, reset="daily")
    changes: dict[str, Any] = {
        "name": "Spring cup",
        "metadata": {"season": 3},
        "rate_limit": {"limit": 5, "window_seconds": 30},
        "client_submissions": False,
        "min_score": 0,
        "max_score": 500,
        "starts_at": "2020-01-01T00:00:00Z",
        "ends_at": "2099-01-01T00:00:00Z",
        "max_submissions": 3,
        "keep_periods": 7,
        "overtake_events": 0,
    }
    response = await patch(a, board_id, changes)
    assert response.status_code == 200, response.text
    board = response.json()
    shown = (await a.get(f"/v1/leaderboards/{board_id}")).json()
    for name, value in changes.items():
        if name.endswith("_at"):
            assert datetime.fromisoformat(board[name]) == datetime.fromisoformat(value), name
        else:
            assert board[name] == value, name
        assert shown[name] == board[name], name
    # The rest stays, and null clears an optional rule.
    assert (board["operator"], board["order"], board["reset"]) == ("best", "desc", "daily")
    cleared = (await patch(a, board_id, {"max_score": None, "ends_at": None})).json()
    assert (cleared["max_score"], cleared["ends_at"], cleared["min_score"]) == (None, None, 0)


async def test_a_change_is_in_effect_at_once_in_the_other_worker(
    workers: tuple[Http, Http], clock: MovableClock
) -> None:
    a, b = workers
    board_id = await create_board(a, max_score=1000)
    player = await new_player(a)
    # Worker b has the board's rules in its cache.
    assert (await post_score(b, board_id, player, 900)).status_code == 200
    assert (await b.get(f"/v1/leaderboards/{board_id}")).json()["max_score"] == 1000

    assert (await patch(a, board_id, {"max_score": 100, "name": "Capped"})).status_code == 200
    refused = await post_score(b, board_id, player, 950)
    assert refused.status_code == 400, refused.text
    assert refused.json()["field"] == "score"
    assert (await b.get(f"/v1/leaderboards/{board_id}")).json()["name"] == "Capped"

    # And closing the board: b refuses the very next submission.
    closed = await patch(a, board_id, {"starts_at": later(clock, 1), "ends_at": later(clock, 2)})
    assert closed.status_code == 200, closed.text
    assert closed.json()["open"] is False
    late = await post_score(b, board_id, player, 50)
    assert late.status_code == 409
    assert "not open" in late.json()["detail"]


async def test_a_new_rate_limit_counts_at_once(workers: tuple[Http, Http]) -> None:
    a, b = workers
    board_id = await create_board(a)
    player = await new_player(a)
    assert (await post_score(b, board_id, player, 1)).status_code == 200
    limited = {"rate_limit": {"limit": 2, "window_seconds": 60}}
    assert (await patch(a, board_id, limited)).status_code == 200
    assert (await post_score(b, board_id, player, 2)).status_code == 200
    throttled = await post_score(b, board_id, player, 3)
    assert throttled.status_code == 429
    assert throttled.headers["ratelimit-limit"] == "2"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"operator": "sum"}, "operator"),
        ({"order": "asc"}, "order"),
        ({"reset": "weekly"}, "reset"),
        ({"spans": ["daily"]}, "spans"),
        ({"id": "another-id"}, "id"),
        ({"name": "ok", "operator": "latest"}, "operator"),
        ({"min_score": 10, "max_score": 5}, "min_score"),
        ({"keep_periods": 3}, "keep_periods"),  # the board never resets
        ({"overtake_events": 101}, "overtake_events"),
        ({"rate_limit": None}, "rate_limit"),
        ({"ends_at": "2020-01-01T00:00:00Z"}, "ends_at"),  # already past
        ({"starts_at": "2098-01-01T00:00:00Z", "ends_at": "2097-01-01T00:00:00Z"}, "ends_at"),
        ({"starts_at": "2099-06-01T00:00:00Z"}, "ends_at"),  # after the board's end
    ],
)
async def test_what_cannot_change_is_a_400_naming_the_field_and_changes_nothing(
    workers: tuple[Http, Http], body: dict[str, Any], field: str
) -> None:
    a, _ = workers
    board_id = await create_board(a, name="Before", ends_at="2099-01-01T00:00:00Z")
    before = (await a.get(f"/v1/leaderboards/{board_id}")).json()
    response = await patch(a, board_id, body)
    assert response.status_code == 400, response.text
    assert_error_shape(response.json(), 400)
    assert response.json()["field"] == field
    assert (await a.get(f"/v1/leaderboards/{board_id}")).json() == before


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"ends_at": "2020-01-01T00:00:00Z"}, "ends_at"),
        ({"starts_at": "2098-01-02T00:00:00Z", "ends_at": "2098-01-01T00:00:00Z"}, "ends_at"),
        ({"starts_at": "2098-01-01T00:00:00Z", "ends_at": "2098-01-01T00:00:00Z"}, "ends_at"),
    ],
)
async def test_a_board_is_not_created_with_an_end_past_or_before_its_start(
    workers: tuple[Http, Http], options: dict[str, Any], field: str
) -> None:
    a, _ = workers
    body = {"id": f"p-{uuid.uuid4().hex[:10]}", **options}
    response = await a.post("/v1/leaderboards", json=body, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert (await a.get(f"/v1/leaderboards/{body['id']}")).status_code == 404


async def test_a_board_that_ended_may_still_be_renamed(
    workers: tuple[Http, Http], clock: MovableClock
) -> None:
    """Only an end the request sets must lie ahead."""
    a, _ = workers
    board_id = await create_board(a, ends_at=later(clock, 1))
    clock.advance(timedelta(hours=2))
    assert (await a.get(f"/v1/leaderboards/{board_id}")).json()["open"] is False
    response = await patch(a, board_id, {"name": "Final standings"})
    assert response.status_code == 200, response.text
    again = await patch(a, board_id, {"ends_at": later(clock, -1)})
    assert again.status_code == 400
    assert again.json()["field"] == "ends_at"


async def test_a_change_is_audited_with_what_it_was_and_is(workers: tuple[Http, Http]) -> None:
    a, _ = workers
    board_id = await create_board(a, max_score=10)
    assert (await patch(a, board_id, {"max_score": 20, "name": "Twenty"})).status_code == 200
    entries = (await a.get("/v1/audit?limit=20", headers=ADMIN)).json()["entries"]
    (entry,) = [e for e in entries if e["target"] == f"leaderboard:{board_id}" and
                e["action"] == "leaderboard.update"]  # fmt: skip
    assert entry["actor"] == "admin"
    assert entry["details"]["changes"]["max_score"] == {"from": 10, "to": 20}
    assert entry["details"]["changes"]["name"] == {"from": board_id, "to": "Twenty"}


async def test_who_may_change_a_board(workers: tuple[Http, Http]) -> None:
    a, _ = workers
    board_id = await create_board(a)
    signed = (await a.post("/v1/auth/device", json={"device_id": f"d-{uuid.uuid4()}"})).json()
    player = {"Authorization": f"Bearer {signed['token']}"}
    url = f"/v1/leaderboards/{board_id}"
    assert (await a.patch(url, json={"name": "x"})).status_code == 401
    assert (await a.patch(url, json={"name": "x"}, headers=player)).status_code == 403
    missing = await patch(a, "no-such-board", {"name": "x"})
    assert missing.status_code == 404
    assert_error_shape(missing.json(), 404)
