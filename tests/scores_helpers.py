"""The shared test helpers for boards, players and submissions over the API.

Every test module makes its boards with :func:`create_board` and submits with
:func:`submit` (asserts 200) or :func:`post_score` (any answer), so a change to how a
board is made or a score is sent is made here once.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import asyncpg
import httpx

from tests.conftest import ADMIN

# Both the Litestar test client and the live client below are httpx.AsyncClient.
Client = httpx.AsyncClient
Ranking = list[tuple[str, int]]  # (player id, score), best first
HIGH_LIMIT = {"limit": 10_000, "window_seconds": 60}


def new_board_id() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


async def create_board(client: Client, **spec: Any) -> str:
    """A new board (admin) with ``spec``'s fields, a rate limit no test meets, a fresh id."""
    body = {"id": new_board_id(), "rate_limit": HIGH_LIMIT, **spec}
    response = await client.post("/v1/leaderboards", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(body["id"])


async def post_score(
    client: Client, board_id: str, player_id: str, score: int, **body: Any
) -> httpx.Response:
    """A submission for ``player_id`` with the admin token; whatever it answers."""
    return await client.post(
        f"/v1/leaderboards/{board_id}/scores",
        json={"score": score, "player_id": player_id, **body},
        headers=ADMIN,
    )


async def submit(
    client: Client, board_id: str, player_id: str, score: int, **body: Any
) -> dict[str, Any]:
    """A submission that must be accepted (200); its answer."""
    response = await post_score(client, board_id, player_id, score, **body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def top(
    client: Client, board_id: str, limit: int = 1000, offset: int = 0, **params: Any
) -> dict[str, Any]:
    """A page of the board (``params``: more of the query, e.g. ``ranks``)."""
    response = await client.get(
        f"/v1/leaderboards/{board_id}/top", params={"limit": limit, "offset": offset, **params}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def insert_players(database_url: str, count: int) -> list[tuple[str, str]]:
    """``count`` new players straight into Postgres: (player id, display name)."""
    players = [(uuid.uuid4(), os.urandom(32), f"P-{uuid.uuid4().hex[:10]}") for _ in range(count)]
    conn = await asyncpg.connect(database_url)
    try:
        await conn.copy_records_to_table(
            "players", records=players, columns=["id", "device_hash", "display_name"]
        )
    finally:
        await conn.close()
    return [(str(player_id), name) for player_id, _, name in players]


async def postgres_ranking(database_url: str, board_id: str, order: str = "desc") -> Ranking:
    """The contract's order computed by Postgres: better score, then smaller reached_seq."""
    direction = "DESC" if order == "desc" else "ASC"
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            f"""
            SELECT player_id::text, score FROM scores WHERE leaderboard_id = $1
             ORDER BY score {direction}, reached_seq ASC
            """,  # noqa: S608 - direction is one of two constants
            board_id,
        )
    finally:
        await conn.close()
    return [(row[0], row[1]) for row in rows]


def ranked(entries: list[dict[str, Any]]) -> Ranking:
    return [(entry["player_id"], entry["score"]) for entry in entries]
