"""Browser pages of other origins (LEADERBOARD_CORS_ORIGINS), through the app over real services.

The WebSocket origin check against a real serve: tests/system/web/test_cors_origins.py.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from leaderboard.server.app import create_app
from tests.conftest import ADMIN
from tests.helpers import assert_error_shape, sign_in

GAME = "https://game.example"
OTHER = "https://elsewhere.example"
EXPOSED = {
    "retry-after",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "idempotent-replayed",
}


def preflight(origin: str, method: str = "POST", headers: str = "") -> dict[str, str]:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return asked


def listed(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",")}


def cors_headers(headers: object) -> dict[str, str]:
    return {k: v for k, v in dict(headers).items() if k.lower().startswith("access-control-")}  # type: ignore[call-overload]


async def cors_client(
    settings: Settings, *origins: str
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(msgspec.structs.replace(settings, cors_origins=origins))
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.fixture
async def game_client(
    settings: Settings, redis: AnyRedis
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app with one listed origin, GAME."""
    async for client in cors_client(settings, GAME):
        yield client


@pytest.fixture
async def any_origin_client(
    settings: Settings, redis: AnyRedis
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app with ``*``: every page may read."""
    async for client in cors_client(settings, "*"):
        yield client


async def new_board(client: AsyncTestClient[Litestar], **fields: object) -> str:
    board = f"cors-{uuid.uuid4().hex[:12]}"
    response = await client.post("/v1/leaderboards", json={"id": board, **fields}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return board


async def test_unset_a_preflight_gets_no_cross_origin_access(
    client: AsyncTestClient[Litestar],
) -> None:
    """The issue as reported: 204 and the path's methods, but nothing that lets a page in."""
    response = await client.options("/v1/leaderboards/demo/top", headers=preflight(GAME, "GET"))
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, OPTIONS"
    assert cors_headers(response.headers) == {}
    answer = await client.get("/v1/leaderboards/demo/top", headers={"Origin": GAME})
    assert cors_headers(answer.headers) == {}


async def test_a_listed_origins_preflight_allows_a_submission(
    game_client: AsyncTestClient[Litestar],
) -> None:
    response = await game_client.options(
        "/v1/leaderboards/demo/scores",
        headers=preflight(GAME, "POST", "Authorization, Content-Type, Idempotency-Key"),
    )
    assert response.status_code == 204, response.text
    assert response.headers["access-control-allow-origin"] == GAME
    assert "post" in listed(response.headers["access-control-allow-methods"])
    assert {"authorization", "content-type", "idempotency-key"} <= listed(
        response.headers["access-control-allow-headers"]
    )
    assert "origin" in listed(response.headers["vary"])
    assert "access-control-allow-credentials" not in response.headers


async def test_a_listed_origin_reads_the_answers_and_their_headers(
    game_client: AsyncTestClient[Litestar],
) -> None:
    board = await new_board(game_client, rate_limit={"limit": 1, "window_seconds": 60})
    _, auth = await sign_in(game_client)
    headers = {**auth, "Origin": GAME, "Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    url = f"/v1/leaderboards/{board}/scores"
    first = await game_client.post(url, json={"score": 10}, headers=headers)
    assert first.status_code == 200, first.text
    replay = await game_client.post(url, json={"score": 10}, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true"
    throttled = await game_client.post(url, json={"score": 11}, headers={**auth, "Origin": GAME})
    assert throttled.status_code == 429
    assert "retry-after" in throttled.headers
    for answer in (first, replay, throttled):
        assert answer.headers["access-control-allow-origin"] == GAME
        assert listed(answer.headers["access-control-expose-headers"]) >= EXPOSED
        assert "access-control-allow-credentials" not in answer.headers
    read = await game_client.get(f"/v1/leaderboards/{board}/top", headers={"Origin": GAME})
    assert read.headers["access-control-allow-origin"] == GAME
    # Errors too, so the page sees a 404 and not a CORS failure.
    missing = await game_client.get("/v1/leaderboards/nope-nope/top", headers={"Origin": GAME})
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == GAME


async def test_another_origin_gets_no_access_control_headers(
    game_client: AsyncTestClient[Litestar],
) -> None:
    refused = await game_client.options("/v1/leaderboards/demo/scores", headers=preflight(OTHER))
    assert refused.status_code == 400
    assert cors_headers(refused.headers) == {}
    assert_error_shape(refused.json(), 400)
    assert refused.json()["field"] == "Origin"
    answer = await game_client.get("/v1/leaderboards/demo/top", headers={"Origin": OTHER})
    assert cors_headers(answer.headers) == {}


async def test_a_preflight_for_what_is_not_allowed_names_it(
    game_client: AsyncTestClient[Litestar],
) -> None:
    method = await game_client.options("/v1/leaderboards/demo", headers=preflight(GAME, "PUT"))
    header = await game_client.options(
        "/v1/leaderboards/demo/scores", headers=preflight(GAME, "POST", "X-Secret")
    )
    for response, field in (
        (method, "Access-Control-Request-Method"),
        (header, "Access-Control-Request-Headers"),
    ):
        assert response.status_code == 400
        assert_error_shape(response.json(), 400)
        assert response.json()["field"] == field
        assert cors_headers(response.headers) == {}


async def test_options_without_an_origin_still_lists_the_paths_methods(
    game_client: AsyncTestClient[Litestar],
) -> None:
    """Litestar's CORS layer answers preflights; the app's own OPTIONS answers the rest."""
    response = await game_client.options("/v1/leaderboards")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, OPTIONS, POST"


async def test_any_origin_may_read_and_never_write(
    any_origin_client: AsyncTestClient[Litestar],
) -> None:
    board = await new_board(any_origin_client)
    read = await any_origin_client.get(f"/v1/leaderboards/{board}/top", headers={"Origin": OTHER})
    assert read.status_code == 200
    assert read.headers["access-control-allow-origin"] == "*"
    assert listed(read.headers["access-control-expose-headers"]) >= EXPOSED
    # A write's preflight is refused …
    write = await any_origin_client.options(
        f"/v1/leaderboards/{board}/scores", headers=preflight(OTHER, "POST", "Content-Type")
    )
    assert write.status_code == 400
    assert write.json()["field"] == "Access-Control-Request-Method"
    # … and a write a browser sends without one (a "simple" POST) gets an answer the
    # page may not read.
    simple = await any_origin_client.post(
        "/v1/auth/device",
        content=b'{"device_id": "simple-post-device"}',
        headers={"Origin": OTHER, "Content-Type": "text/plain"},
    )
    assert cors_headers(simple.headers) == {}
    for response in (read, write, simple):
        assert "access-control-allow-credentials" not in response.headers


async def test_sse_from_another_origin_is_refused(
    game_client: AsyncTestClient[Litestar],
) -> None:
    """(An accepted stream never ends, which the in-process client cannot read: the
    system test opens those.)"""
    board = await new_board(game_client)
    response = await game_client.get(f"/v1/leaderboards/{board}/events", headers={"Origin": OTHER})
    assert response.status_code == 403
    assert_error_shape(response.json(), 403)
    assert "Origin" in response.json()["detail"]
