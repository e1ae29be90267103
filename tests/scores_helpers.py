"""Helpers for tests of scores and ranks: boards, players and submissions over the API."""

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


async def create_board(
    client: Client, *, operator: str = "best", order: str = "desc", board_id: str | None = None
) -> str:
    board_id = board_id or new_board_id()
    response = await client.post(
        "/v1/leaderboards",
        json={"id": board_id, "operator": operator, "order": order, "rate_limit": HIGH_LIMIT},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    return board_id


async def submit(client: Client, board_id: str, player_id: str, score: int) -> dict[str, Any]:
    response = await client.post(
        f"/v1/leaderboards/{board_id}/scores",
        json={"score": score, "player_id": player_id},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def top(client: Client, board_id: str, limit: int = 1000, offset: int = 0) -> dict[str, Any]:
    response = await client.get(
        f"/v1/leaderboards/{board_id}/top", params={"limit": limit, "offset": offset}
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
