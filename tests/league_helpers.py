"""Helpers for tests of leagues: leagues, players and submissions over the API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar

from leaderboard.lib.clock import Clock
from leaderboard.lib.features import Services
from leaderboard.lib.settings import Settings
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.conftest import ADMIN, running

Client = httpx.AsyncClient
HIGH_LIMIT = {"limit": 10_000, "window_seconds": 60}
# Three tiers, the README's: 2 up from Bronze, 2 up and 2 down in Silver, 2 down from Gold.
THREE_TIERS = [
    {"name": "Bronze", "promote": 2, "demote": 0},
    {"name": "Silver", "promote": 2, "demote": 2},
    {"name": "Gold", "promote": 0, "demote": 2},
]


def new_league_id() -> str:
    return f"lg-{uuid.uuid4().hex[:12]}"


async def create_league(
    client: Client,
    *,
    league_id: str | None = None,
    schedule: str = "weekly",
    cohort_size: int = 5,
    tiers: Sequence[dict[str, Any]] = THREE_TIERS,
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "id": league_id or new_league_id(),
        "schedule": schedule,
        "cohort_size": cohort_size,
        "tiers": list(tiers),
        "rate_limit": HIGH_LIMIT,
        **fields,
    }
    response = await client.post("/v1/leagues", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    league: dict[str, Any] = response.json()
    return league


async def submit(client: Client, league_id: str, player_id: str, score: int) -> dict[str, Any]:
    """A submission for ``player_id`` by the admin; asserts 200."""
    response = await client.post(
        f"/v1/leagues/{league_id}/scores",
        json={"score": score, "player_id": player_id},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def cohort(client: Client, league_id: str, cohort_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/leagues/{league_id}/cohorts/{cohort_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def end_season(client: Client, league_id: str, **body: Any) -> httpx.Response:
    return await client.post(
        f"/v1/leagues/{league_id}/season/end", json=body or None, headers=ADMIN
    )


def services_of(app: Litestar) -> Services:
    """The worker's services of a running app (to reach a background job directly)."""
    return app.plugins.get(InfrastructurePlugin).services


@asynccontextmanager
async def workers(
    settings: Settings, clock: Clock, count: int = 2
) -> AsyncIterator[tuple[list[Litestar], list[httpx.AsyncClient]]]:
    """``count`` app instances over the same Postgres and Redis, as worker processes would
    be, on one clock; each reached in the test's event loop (requests really concurrent)."""
    apps = [create_app(settings, clock=clock) for _ in range(count)]
    async with AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(running(app))
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                    base_url=f"http://w{i}.local",
                    timeout=60,
                )
            )
            for i, app in enumerate(apps)
        ]
        yield apps, clients
