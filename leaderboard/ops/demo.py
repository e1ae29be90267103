"""``leaderboard demo``: a board full of players and a trickle of scores, for a first look.

It drives the running service's HTTP API like a game server would (admin token, scores
submitted on behalf of players), so the live page, SSE, WebSocket and ``watch`` all have
something to show.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable

import httpx

ADJECTIVES = [
    "Swift",
    "Brave",
    "Silent",
    "Lucky",
    "Crimson",
    "Frozen",
    "Golden",
    "Wild",
    "Clever",
    "Iron",
    "Shadow",
    "Sunny",
]
ANIMALS = [
    "Fox",
    "Otter",
    "Falcon",
    "Badger",
    "Lynx",
    "Raven",
    "Wolf",
    "Panda",
    "Heron",
    "Gecko",
    "Yak",
    "Koala",
]

Progress = Callable[[int, int], None]


def player_name(rng: random.Random) -> str:
    return f"{rng.choice(ADJECTIVES)}{rng.choice(ANIMALS)}{rng.randint(1, 99)}"


async def run_demo(
    base_url: str,
    admin_token: str,
    *,
    board_id: str = "demo",
    players: int = 300,
    rate: float = 5.0,
    duration: float | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] = print,
) -> int:
    """Create the board and its players, then submit about ``rate`` scores a second.

    Runs until ``duration`` seconds have passed (forever when None); returns how many
    scores it submitted in all.
    """
    rng = random.Random()  # noqa: S311 - demo data, not secrets
    admin = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        created = await http.post(
            "/v1/leaderboards",
            headers=admin,
            json={
                "id": board_id,
                "name": "Demo board",
                "rate_limit": {"limit": 10_000, "window_seconds": 60},
            },
        )
        if created.status_code not in (201, 409):
            created.raise_for_status()
        player_ids: list[str] = []
        submitted = 0
        for i in range(players):
            signed = await http.post(
                "/v1/auth/device",
                json={"device_id": f"demo-{uuid.uuid4()}", "display_name": player_name(rng)},
            )
            signed.raise_for_status()
            player_ids.append(signed.json()["player_id"])
            await _submit(http, admin, board_id, player_ids[-1], rng.randint(100, 5000))
            submitted += 1
            if progress:
                progress(i + 1, players)
        log(f"board {board_id!r}: {players} players; now submitting ~{rate:g} scores/s")
        deadline = None if duration is None else time.monotonic() + duration
        while deadline is None or time.monotonic() < deadline:
            player = rng.choice(player_ids)
            await _submit(http, admin, board_id, player, rng.randint(100, 10_000))
            submitted += 1
            await asyncio.sleep(rng.expovariate(rate))
    return submitted


async def _submit(
    http: httpx.AsyncClient, admin: dict[str, str], board_id: str, player: str, score: int
) -> None:
    response = await http.post(
        f"/v1/leaderboards/{board_id}/scores",
        headers=admin,
        json={"score": score, "player_id": player},
    )
    if response.status_code >= 500:
        response.raise_for_status()
