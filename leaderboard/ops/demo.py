"""``leaderboard demo``: a board full of players and a trickle of scores, for a first look.

It drives the running service's HTTP API like a game server would: with the admin token
it creates its players (``POST /v1/players``, which has no per-address throttle, unlike
device sign-in) and submits their scores (``player_id`` in the body), so the live page,
SSE, WebSocket and ``watch`` all have something to show.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

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

# (players on the board now, players wanted, players found from an earlier run)
Progress = Callable[[int, int, int], None]

# Requests in flight while filling the board: fast, without queueing hundreds at once.
FILL_CONCURRENCY = 16
# How long a request may keep getting 429 or 503 (throttled, a dependency restarting)
# before the demo gives up; the service says how long to wait in Retry-After.
RETRY_FOR_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 10.0
TOP_PAGE = 1000  # the largest page GET …/top serves


class DemoError(Exception):
    """The demo cannot go on; the message says what happened, in one line."""


def player_name(rng: random.Random) -> str:
    return f"{rng.choice(ADJECTIVES)}{rng.choice(ANIMALS)}{rng.randint(1, 99)}"


class DemoApi:
    """The few calls the demo makes, with errors that say what happened."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, admin_token: str) -> None:
        self._http = http
        self._base = base_url
        self._admin = {"Authorization": f"Bearer {admin_token}"}

    async def call(
        self, method: str, path: str, *, expect: tuple[int, ...], json: Any = None
    ) -> httpx.Response:
        """One request; retried while the service answers 429 or 503, else DemoError."""
        deadline = time.monotonic() + RETRY_FOR_SECONDS
        while True:
            try:
                response = await self._http.request(method, path, headers=self._admin, json=json)
            except httpx.TimeoutException:
                raise DemoError(
                    f"the service at {self._base} did not answer {method} {path} within "
                    f"{REQUEST_TIMEOUT_SECONDS:g} s"
                ) from None
            except httpx.TransportError as exc:
                raise DemoError(
                    f"cannot reach the service at {self._base} ({exc or type(exc).__name__}); "
                    "is `leaderboard serve` running? (--url chooses another address)"
                ) from None
            if response.status_code in expect:
                return response
            retry = response.status_code in (429, 503) and time.monotonic() < deadline
            if not retry:
                raise DemoError(self._explain(method, path, response))
            await asyncio.sleep(_retry_after(response))

    def _explain(self, method: str, path: str, response: httpx.Response) -> str:
        """An answer the demo did not expect, in words: the service was reached."""
        try:
            detail = str(response.json().get("detail") or response.reason_phrase)
        except ValueError:
            detail = response.reason_phrase
        message = f"the service at {self._base} answered {method} {path} with "
        message += f"{response.status_code}: {detail}"
        if response.status_code in (401, 403):
            message += (
                " (the demo uses the admin token from LEADERBOARD_ADMIN_TOKEN or from "
                "serve's data directory: run it where `leaderboard serve` runs)"
            )
        elif response.status_code == 404 and path == "/v1/players":
            message += " (is it an older release, without POST /v1/players?)"
        return message


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(max(float(response.headers.get("retry-after", "1")), 0.1), 5.0)
    except ValueError:
        return 1.0


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
    """Fill the board to ``players`` players, then submit about ``rate`` scores a second.

    A board left by an earlier run keeps its players (they are reused, and only the
    missing ones are created). Runs until ``duration`` seconds have passed after the fill
    (forever when None); returns how many scores the service accepted in all. Raises
    DemoError when the service cannot be reached or answers what the demo cannot use.
    """
    rng = random.Random()  # noqa: S311 - demo data, not secrets
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        api = DemoApi(http, base_url, admin_token)
        await api.call(
            "POST",
            "/v1/leaderboards",
            expect=(201, 409),  # 409: there from an earlier run, reused
            json={
                "id": board_id,
                "name": "Demo board",
                "rate_limit": {"limit": 10_000, "window_seconds": 60},
            },
        )
        player_ids = await _existing_players(api, board_id, players)
        reused = len(player_ids)
        if progress:
            progress(reused, players, reused)
        submitted = await _fill(api, board_id, player_ids, players, rng, progress)
        log(f"board {board_id!r}: {len(player_ids)} players; now submitting ~{rate:g} scores/s")
        deadline = None if duration is None else time.monotonic() + duration
        while deadline is None or time.monotonic() < deadline:
            player = rng.choice(player_ids)
            await _submit(api, board_id, player, rng.randint(100, 10_000))
            submitted += 1
            pause = rng.expovariate(rate)
            if deadline is not None:
                pause = min(pause, max(0.0, deadline - time.monotonic()))
            await asyncio.sleep(pause)
    return submitted


async def _existing_players(api: DemoApi, board_id: str, wanted: int) -> list[str]:
    """Up to ``wanted`` players already on the board (from an earlier run)."""
    found: list[str] = []
    while len(found) < wanted:
        limit = min(TOP_PAGE, wanted - len(found))
        page = await api.call(
            "GET",
            f"/v1/leaderboards/{board_id}/top?limit={limit}&offset={len(found)}",
            expect=(200,),
        )
        entries = page.json()["entries"]
        found.extend(entry["player_id"] for entry in entries)
        if len(entries) < limit:
            break
    return found


async def _fill(
    api: DemoApi,
    board_id: str,
    player_ids: list[str],
    wanted: int,
    rng: random.Random,
    progress: Progress | None,
) -> int:
    """Create the missing players, each with a first score; returns the scores submitted."""

    async def first_score(player: str) -> None:
        await _submit(api, board_id, player, rng.randint(100, 5000))

    return await fill_players(api, player_ids, wanted, rng, progress, first_score)


async def fill_players(
    api: DemoApi,
    player_ids: list[str],
    wanted: int,
    rng: random.Random,
    progress: Progress | None,
    first_score: Callable[[str], Awaitable[None]],
) -> int:
    """Create players until ``player_ids`` has ``wanted``, each with ``first_score``.

    Returns how many it created (and so submitted for); progress as (done, wanted, reused).
    """
    missing = max(wanted - len(player_ids), 0)
    reused = len(player_ids)
    slots = asyncio.Semaphore(FILL_CONCURRENCY)

    async def one() -> None:
        async with slots:
            created = await api.call(
                "POST", "/v1/players", expect=(201,), json={"display_name": player_name(rng)}
            )
            player = created.json()["player_id"]
            await first_score(player)
            player_ids.append(player)
            if progress:
                progress(len(player_ids), wanted, reused)

    await run_together([one() for _ in range(missing)])
    return missing


async def run_together(calls: list[Coroutine[Any, Any, None]]) -> None:
    """Run the calls at once; the first that fails stops the rest, and its error is raised."""
    tasks = [asyncio.create_task(call) for call in calls]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _submit(api: DemoApi, board_id: str, player: str, score: int) -> None:
    await api.call(
        "POST",
        f"/v1/leaderboards/{board_id}/scores",
        expect=(200, 201),
        json={"score": score, "player_id": player},
    )
