"""Review: held player submissions (202), the queue, approve and reject, exactly once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.lib.redis_client import AnyRedis
from tests.conftest import ADMIN, Workers, delete_keys
from tests.helpers import sign_in
from tests.integration.submissions.ledger_helpers import history, stored
from tests.scores_helpers import create_board, submit

pytestmark = pytest.mark.redis_modes
Client = AsyncTestClient[Litestar]


async def own_score(client: Any, board_id: str, headers: dict[str, str], score: int) -> Any:
    return await client.post(
        f"/v1/leaderboards/{board_id}/scores", json={"score": score}, headers=headers
    )


async def queue(client: Any, board_id: str, headers: dict[str, str] = ADMIN) -> Any:
    return await client.get(
        f"/v1/leaderboards/{board_id}/submissions", params={"status": "pending"}, headers=headers
    )


async def test_a_held_submission_waits_for_a_decision(client: Client) -> None:
    board_id = await create_board(client, review="all")
    player, headers = await sign_in(client)
    held = await own_score(client, board_id, headers, 40)
    assert held.status_code == 202, held.text
    body = held.json()
    assert body == {
        "submission_id": body["submission_id"],
        "status": "pending",
        "player_id": player,
        "score": 40,
    }
    assert await stored(client, board_id, player) is None, "no rank yet"
    second = (await own_score(client, board_id, headers, 10)).json()["submission_id"]
    listed = (await queue(client, board_id)).json()["submissions"]
    assert [s["id"] for s in listed] == [body["submission_id"], second], "oldest first"
    # The admin's and a server key's submissions are never held.
    rival, _ = await sign_in(client)
    assert (await submit(client, board_id, rival, 5))["rank"] == 1

    approve = f"/v1/submissions/{body['submission_id']}/approve"
    assert (await client.post(approve, headers=headers)).status_code == 403, "not the player"
    approved = await client.post(approve, headers=ADMIN)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert await stored(client, board_id, player) == 40
    assert (await client.post(approve, headers=ADMIN)).status_code == 409
    reject = f"/v1/submissions/{second}/reject"
    rejected = await client.post(reject, json={"reason": "impossible time"}, headers=ADMIN)
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["reason"]) == ("rejected", "impossible time")
    assert await stored(client, board_id, player) == 40
    assert (await client.post(reject, json={"reason": "x"}, headers=ADMIN)).status_code == 409
    assert (await queue(client, board_id)).json()["submissions"] == []
    # What the player sees of their own.
    mine = await client.get(
        f"/v1/leaderboards/{board_id}/players/{player}/submissions", headers=headers
    )
    assert [(s["status"], s["reason"]) for s in mine.json()["submissions"]] == [
        ("rejected", "impossible time"),
        ("approved", None),
    ]
    audit = (await client.get("/v1/audit", headers=ADMIN)).json()["entries"]
    actions = [e["action"] for e in audit if e["target"].endswith(player)]
    assert actions[:3] == ["submission.reject", "score.submit", "submission.approve"]


async def test_the_queue_is_for_the_admin_and_the_boards_server_keys(client: Client) -> None:
    board_id = await create_board(client, review="all")
    other_board = await create_board(client)
    _, headers = await sign_in(client)
    sid = (await own_score(client, board_id, headers, 1)).json()["submission_id"]
    keys = {}
    for name, boards in (("own", [board_id]), ("other", [other_board]), ("all", None)):
        made = await client.post(
            "/v1/server-keys", json={"name": name, "leaderboards": boards}, headers=ADMIN
        )
        keys[name] = {"Authorization": f"Bearer {made.json()['key']}"}
    assert (await queue(client, board_id, headers)).status_code == 403
    assert (await queue(client, board_id, keys["other"])).status_code == 403
    assert (await queue(client, board_id, keys["all"])).status_code == 200
    own = (await queue(client, board_id, keys["own"])).json()["submissions"]
    assert [s["id"] for s in own] == [sid]
    assert (await client.get(f"/v1/submissions/{sid}", headers=keys["other"])).status_code == 403
    url = f"/v1/submissions/{sid}/approve"
    assert (await client.post(url, headers=keys["other"])).status_code == 403
    assert (await client.post(url, headers=keys["own"])).status_code == 200


@pytest.mark.parametrize(
    ("order", "first", "then", "held"),
    [
        ("desc", 100, 150, False),  # +50: not more than the jump
        ("desc", 100, 151, True),  # +51
        ("desc", 100, 20, False),  # worse: a best keeps 100
        ("asc", 100, 40, True),  # better by 60 on an asc board
        ("asc", 100, 160, False),
    ],
)
async def test_rules_hold_a_jump_above_review_jump(
    client: Client, order: str, first: int, then: int, held: bool
) -> None:
    board_id = await create_board(client, review="rules", review_jump=50, order=order)
    _, headers = await sign_in(client)
    assert (await own_score(client, board_id, headers, first)).status_code == 200, "first entry"
    response = await own_score(client, board_id, headers, then)
    assert response.status_code == (202 if held else 200), response.text


async def test_rules_hold_a_score_that_would_reach_the_top(client: Client) -> None:
    board_id = await create_board(client, review="rules", review_top=2)
    for score in (100, 90, 80):
        rival, _ = await sign_in(client)
        await submit(client, board_id, rival, score)
    player, headers = await sign_in(client)
    assert (await own_score(client, board_id, headers, 85)).status_code == 200, "rank 3"
    assert (await own_score(client, board_id, headers, 90)).status_code == 200, "a tie: rank 3"
    assert (await own_score(client, board_id, headers, 91)).status_code == 202, "rank 2"
    newcomer, new_headers = await sign_in(client)
    assert (await own_score(client, board_id, new_headers, 500)).status_code == 202, "first too"
    assert await stored(client, board_id, newcomer) is None
    assert await stored(client, board_id, player) == 90


async def test_an_approval_counts_in_the_period_it_was_submitted_in(client: Client) -> None:
    board_id = await create_board(client, review="all", operator="sum")
    player, headers = await sign_in(client)
    await own_score(client, board_id, headers, 5)
    sid = (await own_score(client, board_id, headers, 7)).json()["submission_id"]
    await submit(client, board_id, player, 1)  # the admin's counts at once
    for s in await history(client, board_id, player):
        if s["status"] == "pending" and s["id"] != sid:
            url = f"/v1/submissions/{s['id']}/approve"
            assert (await client.post(url, headers=ADMIN)).is_success
    assert await stored(client, board_id, player) == 6
    assert (await client.post(f"/v1/submissions/{sid}/approve", headers=ADMIN)).is_success
    assert await stored(client, board_id, player) == 13


async def test_review_needs_a_ledger_and_rules(client: Client) -> None:
    for spec, field in (
        ({"review": "all", "ledger_days": 0}, "ledger_days"),
        ({"review": "rules"}, "review"),
        ({"review_jump": 0}, "review_jump"),
        ({"ledger_days": 3651}, "ledger_days"),
    ):
        response = await client.post(
            "/v1/leaderboards", json={"id": "bad-review", **spec}, headers=ADMIN
        )
        assert response.status_code == 400, spec
        assert field in response.json()["detail"]


async def test_a_board_changes_its_review_and_ledger_days(client: Client) -> None:
    board_id = await create_board(client)
    url = f"/v1/leaderboards/{board_id}"
    changed = await client.patch(
        url, json={"review": "rules", "review_top": 3, "ledger_days": 90}, headers=ADMIN
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["review"], changed.json()["review_top"]) == ("rules", 3)
    assert changed.json()["ledger_days"] == 90
    refused = await client.patch(url, json={"ledger_days": 0}, headers=ADMIN)
    assert refused.status_code == 400
    assert "ledger_days" in refused.json()["detail"]
    _, headers = await sign_in(client)
    assert (await own_score(client, board_id, headers, 1)).status_code == 202, "top 3"


async def test_one_approval_wins_between_two_workers(workers: Workers) -> None:
    a, b = workers
    board_id = await create_board(a, review="all")
    player, headers = await sign_in(a)
    for _ in range(5):
        sid = (await own_score(a, board_id, headers, 10)).json()["submission_id"]
        url = f"/v1/submissions/{sid}/approve"
        answers = await asyncio.gather(a.post(url, headers=ADMIN), b.post(url, headers=ADMIN))
        assert sorted(r.status_code for r in answers) == [200, 409]
    listed = await history(a, board_id, player)
    assert [s["status"] for s in listed] == ["approved"] * 5
    races = []
    for _ in range(5):
        sid = (await own_score(a, board_id, headers, 10)).json()["submission_id"]
        races.append(
            asyncio.gather(
                a.post(f"/v1/submissions/{sid}/approve", headers=ADMIN),
                b.post(f"/v1/submissions/{sid}/reject", json={"reason": "r"}, headers=ADMIN),
            )
        )
    for answers in await asyncio.gather(*races):
        assert sorted(r.status_code for r in answers) == [200, 409]


async def test_a_held_submission_keeps_its_metadata_and_evidence(client: Client) -> None:
    board_id = await create_board(client, review="all", reset="weekly")
    player, headers = await sign_in(client)
    sent = await client.post(
        f"/v1/leaderboards/{board_id}/scores",
        json={"score": 7, "metadata": {"lap": [1, 2]}, "evidence_url": "https://r.example/7"},
        headers=headers,
    )
    assert sent.status_code == 202, sent.text
    sid = sent.json()["submission_id"]
    (pending,) = (await queue(client, board_id)).json()["submissions"]
    assert (pending["metadata"], pending["evidence_url"]) == (
        {"lap": [1, 2]},
        "https://r.example/7",
    )
    assert pending["period"] is not None
    approved = await client.post(f"/v1/submissions/{sid}/approve", headers=ADMIN)
    assert approved.status_code == 200, approved.text
    assert approved.json()["metadata"] == {"lap": [1, 2]}
    assert await stored(client, board_id, player) == 7


async def test_a_retried_held_submission_is_held_once(
    client: Client, redis: AnyRedis, redis_key_prefix: str
) -> None:
    """A client that did not hear its 202 sends again with its Idempotency-Key."""
    board_id = await create_board(client, review="all")
    player, headers = await sign_in(client)
    keyed = {**headers, "Idempotency-Key": "run-7"}
    url = f"/v1/leaderboards/{board_id}/scores"
    first = await client.post(url, json={"score": 40}, headers=keyed)
    assert first.status_code == 202, first.text
    again = await client.post(url, json={"score": 40}, headers=keyed)
    assert again.status_code == 202, again.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    # The answer lost with Redis: still held once; the repeat says so (409), never 202 twice.
    await delete_keys(redis, f"{redis_key_prefix}idem*")
    lost = await client.post(url, json={"score": 40}, headers=keyed)
    assert lost.status_code == 409, lost.text
    assert "held for review" in lost.json()["detail"]
    # The same key with another body is refused, as for any submission.
    other = await client.post(url, json={"score": 41}, headers=keyed)
    assert other.status_code == 422, other.text
    pending = (await queue(client, board_id)).json()["submissions"]
    assert [s["id"] for s in pending] == [first.json()["submission_id"]]
    assert player == first.json()["player_id"]
