"""The running app the index guard's tests break and watch converge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from litestar import Litestar
from redis.asyncio import Redis

from leaderboard.lib.features import Services
from leaderboard.lib.settings import Settings
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.conftest import running


@dataclass
class Live:
    http: httpx.AsyncClient
    services: Services


@pytest.fixture
async def guarded_app(settings: Settings, redis: Redis) -> AsyncIterator[Live]:
    """The app with its services, for the index guard's tests (their ``live``)."""
    app: Litestar = create_app(settings)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with (
        running(app),
        httpx.AsyncClient(transport=transport, base_url="http://guard.local") as http,
    ):
        yield Live(http, app.plugins.get(InfrastructurePlugin).services)
