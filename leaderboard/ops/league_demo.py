"""``leaderboard demo --league``: a weekly league of three tiers, full of players, for a look.

Like the board demo it drives the running service's HTTP API as a game server would (the
admin token, ``player_id`` in the body). A new league gets its players and their first
points; then its first season is ended at once, so the second one has players in Bronze
and Silver, each cohort with its zones; then points keep coming. Watch a cohort at
``/leagues/<id>``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import httpx

from leaderboard.ops.demo import (
    FILL_CONCURRENCY,
    REQUEST_TIMEOUT_SECONDS,
    DemoApi,
    Progress,
    fill_players,
    run_together,
)

TIERS = [
    {"name": "Bronze", "promote": 5, "demote": 0},
    {"name": "Silver", "promote": 5, "demote": 5},
    {"name": "Gold", "promote": 0, "demote": 5},
]
COHORT_SIZE = 30


async def run_league_demo(
    base_url: str,
    admin_token: str,
    *,
    league_id: str = "demo-league",
    players: int = 300,
    rate: float = 5.0,
    duration: float | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] = print,
) -> int:
    """Fill the league to ``players`` players, then submit about ``rate`` scores a second.

    Returns how many scores the service accepted. Raises DemoError as the board demo does.
    """
    rng = random.Random()  # noqa: S311 - demo data, not secrets
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        api = DemoApi(http, base_url, admin_token)
        created = await api.call(
            "POST",
            "/v1/leagues",
            expect=(201, 409),  # 409: there from an earlier run, reused
            json={
                "id": league_id,
                "name": "Demo league",
                "schedule": "weekly",
                "cohort_size": COHORT_SIZE,
                "tiers": TIERS,
                "rate_limit": {"limit": 10_000, "window_seconds": 60},
            },
        )
        found = await _current_players(api, league_id)
        if progress:
            progress(len(found), players, len(found))
        submitted = await _fill(api, league_id, found, players, rng, progress)
        if created.status_code == 201:
            # A second season at once: the first one's best move up to Silver.
            await api.call("POST", f"/v1/leagues/{league_id}/season/end", expect=(200,))
            submitted += await _score_all(api, league_id, found, rng)
        log(
            f"league {league_id!r}: {len(found)} players; watch a cohort at "
            f"/leagues/{league_id}; now submitting ~{rate:g} scores/s"
        )
        deadline = None if duration is None else time.monotonic() + duration
        while deadline is None or time.monotonic() < deadline:
            await _submit(api, league_id, rng.choice(found), rng.randint(5, 60))
            submitted += 1
            pause = rng.expovariate(rate)
            if deadline is not None:
                pause = min(pause, max(0.0, deadline - time.monotonic()))
            await asyncio.sleep(pause)
    return submitted


async def _current_players(api: DemoApi, league_id: str) -> list[str]:
    """The players of the league's current season (an earlier run's), cohort by cohort."""
    league = (await api.call("GET", f"/v1/leagues/{league_id}", expect=(200,))).json()
    found: list[str] = []
    for tier in range(1, len(league["tiers"]) + 1):
        number = 1
        while True:
            page = await api.call(
                "GET",
                f"/v1/leagues/{league_id}/cohorts/{league['season']}-{tier}-{number}",
                expect=(200, 404),
            )
            if page.status_code == 404:
                break
            found += [entry["player_id"] for entry in page.json()["entries"]]
            number += 1
    return found


async def _fill(
    api: DemoApi,
    league_id: str,
    found: list[str],
    wanted: int,
    rng: random.Random,
    progress: Progress | None,
) -> int:
    """Create the missing players, each with first points; returns the scores submitted."""

    async def first_points(player: str) -> None:
        await _submit(api, league_id, player, rng.randint(10, 200))

    return await fill_players(api, found, wanted, rng, progress, first_points)


async def _score_all(api: DemoApi, league_id: str, players: list[str], rng: random.Random) -> int:
    """Everyone's first points of the new season (which places them in their new tier)."""
    slots = asyncio.Semaphore(FILL_CONCURRENCY)

    async def one(player: str) -> None:
        async with slots:
            await _submit(api, league_id, player, rng.randint(10, 200))

    await run_together([one(player) for player in players])
    return len(players)


async def _submit(api: DemoApi, league_id: str, player: str, score: int) -> None:
    await api.call(
        "POST",
        f"/v1/leagues/{league_id}/scores",
        expect=(200,),
        json={"score": score, "player_id": player},
    )
