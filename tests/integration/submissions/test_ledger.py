"""The ledger: every accepted submission kept with its id; who may read it; voids."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from tests.conftest import ADMIN
from tests.helpers import sign_in
from tests.integration.submissions.ledger_helpers import history, stored, void
from tests.scores_helpers import create_board, post_score, submit

pytestmark = pytest.mark.redis_modes
Client = AsyncTestClient[Litestar]


async def test_each_accepted_submission_is_kept_with_its_id(client: Client) -> None:
    board_id = await create_board(client)
    player, headers = await sign_in(client)
    other, other_headers = await sign_in(client)
    answers = []
    for score, extra in ((10, {}), (5, {"metadata": {"map": "x"}}), (12, {})):
        response = await client.post(
            f"/v1/leaderboards/{board_id}/scores",
            json={"score": score, **extra, "evidence_url": "https://replays.example/1"},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        answers.append(response.json())
    ids = [answer["submission_id"] for answer in answers]
    assert all(isinstance(sid, int) for sid in ids)
    assert ids == sorted(ids)
    listed = await history(client, board_id, player)
    assert [s["id"] for s in listed] == ids[::-1], "newest first"
    assert [(s["score"], s["status"]) for s in listed] == [
        (12, "accepted"),
        (5, "accepted"),
        (10, "accepted"),
    ]
    assert listed[1]["metadata"] == {"map": "x"}
    assert listed[0]["evidence_url"] == "https://replays.example/1"
    assert listed[0]["decided_at"] is None
    assert listed[0]["reason"] is None
    assert listed[0]["player_id"] == player

    url = f"/v1/leaderboards/{board_id}/players/{player}/submissions"
    assert (await client.get(url, headers=headers)).status_code == 200, "the player's own"
    assert (await client.get(url, headers=other_headers)).status_code == 403
    assert (await client.get(url)).status_code == 401
    one = f"/v1/submissions/{ids[0]}"
    assert (await client.get(one, headers=headers)).json()["score"] == 10
    assert (await client.get(one, headers=ADMIN)).json()["status"] == "accepted"
    assert (await client.get(one, headers=other_headers)).status_code == 403
    assert (await client.get("/v1/submissions/999999999", headers=ADMIN)).status_code == 404
    del other


@pytest.mark.parametrize(
    ("url", "problem"),
    [("ftp://x.example/a", "pattern"), ("https://x.example/" + "a" * 500, "length")],
)
async def test_evidence_must_be_a_short_http_url(client: Client, url: str, problem: str) -> None:
    board_id = await create_board(client)
    player, _ = await sign_in(client)
    response = await post_score(client, board_id, player, 1, evidence_url=url)
    assert response.status_code == 400, problem
    assert "evidence_url" in response.json()["detail"]


async def test_a_board_without_a_ledger_keeps_nothing(client: Client) -> None:
    board_id = await create_board(client, ledger_days=0)
    player, _ = await sign_in(client)
    assert (await submit(client, board_id, player, 3))["submission_id"] is None
    assert await history(client, board_id, player) == []
    board = (await client.get(f"/v1/leaderboards/{board_id}")).json()
    assert board["ledger_days"] == 0
    assert board["review"] == "none"


@pytest.mark.parametrize(
    ("operator", "order", "scores", "voided", "expected"),
    [
        ("best", "desc", [10, 30, 20], 1, 20),
        ("best", "asc", [10, 5, 20], 1, 10),
        ("latest", "desc", [10, 30, 20], 2, 30),
        ("sum", "desc", [10, 30, 20], 0, 50),
        ("best", "desc", [10, 30, 20], 0, 30),
    ],
)
async def test_a_void_recomputes_the_stored_score(
    client: Client,
    redis: AnyRedis,
    redis_key_prefix: str,
    operator: str,
    order: str,
    scores: list[int],
    voided: int,
    expected: int,
) -> None:
    board_id = await create_board(client, operator=operator, order=order)
    player, _ = await sign_in(client)
    rival, _ = await sign_in(client)
    await submit(client, board_id, rival, 25 if order == "desc" else 7)
    ids = [(await submit(client, board_id, player, s))["submission_id"] for s in scores]
    before = await stored(client, board_id, player)
    response = await void(client, ids[voided], "modded client")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "voided"
    assert body["reason"] == "modded client"
    assert body["decided_at"] is not None
    assert await stored(client, board_id, player) == expected
    assert (await void(client, ids[voided])).status_code == 409, "voided already"
    stream = Keys(redis_key_prefix).events_stream(board_id)
    entries: list[tuple[str, dict[str, str]]] = await redis.xrange(stream)  # type: ignore[assignment]
    events: list[dict[str, Any]] = [json.loads(fields["event"]) for _, fields in entries]
    last = [event for event in events if event["type"] != "overtaken"][-1]
    if expected != before:
        assert last["type"] == "rank_changed"
        assert (last["player_id"], last["score"], last["previous_score"]) == (
            player,
            expected,
            before,
        )
    audit = await client.get("/v1/audit", params={"action": "submission.void"}, headers=ADMIN)
    assert any(e["details"]["submission_id"] == ids[voided] for e in audit.json()["entries"])


async def test_voiding_the_last_submission_removes_the_entry(
    client: Client, redis: AnyRedis, redis_key_prefix: str
) -> None:
    board_id = await create_board(client)
    player, _ = await sign_in(client)
    rival, _ = await sign_in(client)
    await submit(client, board_id, rival, 5)
    sid = (await submit(client, board_id, player, 50))["submission_id"]
    assert (await void(client, sid)).status_code == 200
    assert await stored(client, board_id, player) is None
    top = (await client.get(f"/v1/leaderboards/{board_id}/top")).json()
    assert [(e["rank"], e["player_id"]) for e in top["entries"]] == [(1, rival)]
    stream = Keys(redis_key_prefix).events_stream(board_id)
    entries: list[tuple[str, dict[str, str]]] = await redis.xrange(stream)  # type: ignore[assignment]
    assert json.loads(entries[-1][1]["event"])["type"] == "entry_removed"
    # A new submission starts a new entry from itself alone.
    assert (await submit(client, board_id, player, 3))["score"] == 3


async def test_only_the_admin_voids(client: Client) -> None:
    board_id = await create_board(client)
    player, headers = await sign_in(client)
    sid = (await submit(client, board_id, player, 5))["submission_id"]
    url = f"/v1/submissions/{sid}/void"
    assert (await client.post(url, json={"reason": "x"}, headers=headers)).status_code == 403
    assert (await client.post(url, json={"reason": "x"})).status_code == 401
    assert (await client.post(url, json={}, headers=ADMIN)).status_code == 400
    assert (await client.post(url, json={"reason": ""}, headers=ADMIN)).status_code == 400
    assert (await void(client, 10**15)).status_code == 404, "never issued"
    assert (await void(client, 10**30)).status_code == 404, "not even a bigint"
    assert (await client.get(f"/v1/submissions/{10**30}", headers=ADMIN)).status_code == 404
    approve = await client.post(f"/v1/submissions/{-1}/approve", headers=ADMIN)
    assert approve.status_code == 404


async def test_a_removed_entry_takes_its_submissions_with_it(client: Client) -> None:
    board_id = await create_board(client)
    player, _ = await sign_in(client)
    first = (await submit(client, board_id, player, 90))["submission_id"]
    remove = await client.delete(f"/v1/leaderboards/{board_id}/players/{player}", headers=ADMIN)
    assert remove.status_code == 204
    later = (await submit(client, board_id, player, 10))["submission_id"]
    assert (await void(client, first)).status_code == 409, "it no longer counts"
    listed = {s["id"]: s for s in await history(client, board_id, player)}
    assert listed[first]["status"] == "voided"
    assert (await void(client, later)).status_code == 200
    assert await stored(client, board_id, player) is None, "90 does not come back"


async def test_a_void_on_a_banned_players_entry_waits_for_the_unban(client: Client) -> None:
    board_id = await create_board(client)
    player, _ = await sign_in(client)
    sids = [(await submit(client, board_id, player, s))["submission_id"] for s in (10, 40)]
    assert (await client.post(f"/v1/players/{player}/ban", headers=ADMIN)).status_code == 204
    assert (await void(client, sids[1])).status_code == 200
    assert await stored(client, board_id, player) is None, "still hidden"
    assert (await client.delete(f"/v1/players/{player}/ban", headers=ADMIN)).status_code == 204
    assert await stored(client, board_id, player) == 10
