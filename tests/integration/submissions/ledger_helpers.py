"""Helpers of the verified-results tests: a submission's ledger calls over the API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ADMIN


async def void(client: httpx.AsyncClient, sid: int, reason: str = "cheated") -> httpx.Response:
    return await client.post(f"/v1/submissions/{sid}/void", json={"reason": reason}, headers=ADMIN)


async def history(
    client: httpx.AsyncClient, board_id: str, player: str, **params: Any
) -> list[dict[str, Any]]:
    """The player's submissions (admin's view), newest first."""
    response = await client.get(
        f"/v1/leaderboards/{board_id}/players/{player}/submissions", params=params, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["submissions"]
    return found


async def stored(client: httpx.AsyncClient, board_id: str, player: str) -> int | None:
    """The player's stored score as the ranked reads serve it; None without an entry."""
    response = await client.get(f"/v1/leaderboards/{board_id}/players/{player}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    score: int = response.json()["score"]
    return score
