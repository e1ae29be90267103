"""Origins against a real `leaderboard serve` (LEADERBOARD_CORS_ORIGINS): the WebSocket
upgrade and event streams, which a browser opens for any page, and a preflight over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.conftest import TEST_ADMIN_TOKEN
from tests.procs import RunningService, running_service, service_env

GAME = "https://game.example"
OTHER = "https://elsewhere.example"
ADMIN = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}


@pytest.fixture
def server(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str, redis: Any
) -> Iterator[RunningService]:
    env = service_env(
        tmp_path, database_url, redis_server_url, redis_key_prefix, LEADERBOARD_CORS_ORIGINS=GAME
    )
    with running_service(tmp_path, env) as service:
        yield service


@pytest.fixture
def board(server: RunningService) -> str:
    board = f"origins-{uuid.uuid4().hex[:12]}"
    response = httpx.post(f"{server.base}/v1/leaderboards", json={"id": board}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return board


async def first_message(url: str, origin: str | None) -> str:
    async with connect(url, origin=origin) as socket:  # type: ignore[arg-type]
        return str(await socket.recv(decode=True))


async def test_a_websocket_from_an_unlisted_origin_is_refused(
    server: RunningService, board: str
) -> None:
    url = f"{server.ws_base}/v1/leaderboards/{board}/ws"
    with pytest.raises(InvalidStatus) as refused:
        await first_message(url, OTHER)
    assert refused.value.response.status_code == 403
    # A listed origin, the service's own pages (its live page) and clients that are no
    # browser page (no Origin) are served.
    own = server.base  # http://127.0.0.1:<port>, as the live page sends it
    for origin in (GAME, own, None):
        assert await first_message(url, origin) == '{"type":"subscribed"}', origin


def test_event_streams_and_preflights_follow_the_same_origins(
    server: RunningService, board: str
) -> None:
    url = f"{server.base}/v1/leaderboards/{board}/events"
    refused = httpx.get(url, headers={"Origin": OTHER})
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    with httpx.stream("GET", url, headers={"Origin": GAME}, timeout=10) as stream:
        assert stream.status_code == 200
        assert stream.headers["access-control-allow-origin"] == GAME
        assert next(stream.iter_lines()) == ": subscribed"
    preflight = httpx.options(
        f"{server.base}/v1/leaderboards/{board}/scores",
        headers={
            "Origin": GAME,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == GAME
