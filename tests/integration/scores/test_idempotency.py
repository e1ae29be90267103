"""Exactly-once submissions with the Idempotency-Key header (CONTRACT v1.1)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import ADMIN
from tests.helpers import sign_in

pytestmark = pytest.mark.redis_modes


async def sum_board(client: httpx.AsyncClient, limit: int = 1000) -> str:
    board_id = f"idem-{uuid.uuid4().hex[:10]}"
    body = {"id": board_id, "operator": "sum", "rate_limit": {"limit": limit, "window_seconds": 60}}
    response = await client.post("/v1/leaderboards", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return board_id


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def stored_score(database_url: str, board_id: str, player_id: str) -> Any:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(
            "SELECT score FROM scores WHERE leaderboard_id = $1 AND player_id = $2",
            board_id,
            uuid.UUID(player_id),
        )
    finally:
        await conn.close()


async def test_a_repeat_gets_the_first_answer_and_changes_nothing(
    client: AsyncTestClient[Litestar], database_url: str
) -> None:
    board_id = await sum_board(client)
    player, headers = await sign_in(client)
    url = f"/v1/leaderboards/{board_id}/scores"
    first = await client.post(url, json={"score": 100}, headers=keyed(headers, "k-1"))
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = await client.post(url, json={"score": 100}, headers=keyed(headers, "k-1"))
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = await client.post(url, json={"score": 100}, headers=keyed(headers, "k-2"))
    assert other.json()["score"] == 200, "another key is another submission"
    assert await stored_score(database_url, board_id, player) == 200
    entry = (await client.get(f"/v1/leaderboards/{board_id}/players/{player}")).json()
    assert entry["score"] == 200


async def test_the_same_key_with_another_body_is_422(client: AsyncTestClient[Litestar]) -> None:
    board_id = await sum_board(client)
    _, headers = await sign_in(client)
    url = f"/v1/leaderboards/{board_id}/scores"
    assert (await client.post(url, json={"score": 5}, headers=keyed(headers, "k"))).is_success
    changed = await client.post(url, json={"score": 6}, headers=keyed(headers, "k"))
    assert changed.status_code == 422, changed.text
    assert "Idempotency-Key" in changed.json()["detail"]


async def test_keys_are_per_player_and_board(client: AsyncTestClient[Litestar]) -> None:
    board_id, other_board = await sum_board(client), await sum_board(client)
    _, alice = await sign_in(client)
    _, bob = await sign_in(client)
    for board, headers in [(board_id, alice), (board_id, bob), (other_board, alice)]:
        response = await client.post(
            f"/v1/leaderboards/{board}/scores", json={"score": 1}, headers=keyed(headers, "same")
        )
        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response.headers


async def test_replays_do_not_count_against_the_rate_limit(
    client: AsyncTestClient[Litestar],
) -> None:
    board_id = await sum_board(client, limit=2)
    _, headers = await sign_in(client)
    url = f"/v1/leaderboards/{board_id}/scores"
    assert (await client.post(url, json={"score": 1}, headers=keyed(headers, "a"))).is_success
    for _ in range(5):
        replay = await client.post(url, json={"score": 1}, headers=keyed(headers, "a"))
        assert replay.status_code == 200, replay.text
    assert (await client.post(url, json={"score": 1}, headers=keyed(headers, "b"))).is_success
    assert (
        await client.post(url, json={"score": 1}, headers=keyed(headers, "c"))
    ).status_code == 429


@pytest.mark.parametrize(
    "key",
    ["", "x" * 129, "tab\there", "é-accent".encode(), "nul\x00"],
    ids=["empty", "too-long", "control", "non-ascii", "nul"],
)
async def test_a_malformed_key_is_400_naming_the_header(
    client: AsyncTestClient[Litestar], key: str | bytes
) -> None:
    board_id = await sum_board(client)
    _, headers = await sign_in(client)
    response = await client.post(
        f"/v1/leaderboards/{board_id}/scores",
        json={"score": 1},
        headers=[
            *((k.encode(), v.encode()) for k, v in headers.items()),
            (b"Idempotency-Key", key if isinstance(key, bytes) else key.encode()),
        ],
    )
    assert response.status_code == 400, response.text
    assert "Idempotency-Key" in response.json()["detail"]


async def test_concurrent_repeats_count_once(live: httpx.AsyncClient, database_url: str) -> None:
    """Ten copies of one keyed submission in flight at once: one write, the rest 409 or
    the first answer."""
    board_id = await sum_board(live)
    player, headers = await sign_in(live)
    url = f"/v1/leaderboards/{board_id}/scores"
    answers = await asyncio.gather(
        *(live.post(url, json={"score": 7}, headers=keyed(headers, "burst")) for _ in range(10))
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) <= {200, 409}, statuses
    first = [a for a in answers if a.status_code == 200 and "Idempotent-Replayed" not in a.headers]
    assert len(first) == 1
    for answer in answers:
        if answer.status_code == 200:
            assert answer.json()["score"] == 7
    assert await stored_score(database_url, board_id, player) == 7
