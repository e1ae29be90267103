"""The Redis-facing parts against a real 3-master Redis Cluster (LEADERBOARD_REDIS_CLUSTER=1)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.events.hub import EventHub
from leaderboard.events.models import RankChanged
from leaderboard.events.watch import watch
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import close_redis, create_redis, initialize
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.lib.settings import Settings
from leaderboard.ratelimit import RateLimiter, RateLimitPolicy
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.conftest import ADMIN, delete_keys, raw_redis, running
from tests.helpers import sign_in

pytestmark = pytest.mark.slow


@pytest.fixture
async def cluster_settings(
    settings: Settings, redis_cluster_url: str, redis_key_prefix: str
) -> AsyncIterator[Settings]:
    """The settings, on the session's cluster; the test's keys there go after it."""
    yield msgspec.structs.replace(settings, redis_url=redis_cluster_url, redis_cluster=True)
    client = await raw_redis(redis_cluster_url, cluster=True)
    try:
        await delete_keys(client, f"{redis_key_prefix}*")
    finally:
        await client.aclose()


@pytest.fixture
async def cluster_client(cluster_settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_app(cluster_settings)) as client:
        yield client


async def test_the_limiter_is_exact_on_a_cluster(cluster_settings: Settings) -> None:
    assert cluster_settings.redis_url is not None
    clients = [create_redis(cluster_settings, cluster_settings.redis_url) for _ in range(2)]
    for client in clients:
        await initialize(client)
    keys = Keys(cluster_settings.redis_key_prefix)
    limiters = [RateLimiter(ScriptPipeline(client), keys) for client in clients]
    policy = RateLimitPolicy(limit=10, window_seconds=60)
    try:
        for _ in range(5):
            subject = str(uuid.uuid4())
            decisions = await asyncio.gather(
                *(limiters[i % 2].hit("cluster", subject, policy) for i in range(50))
            )
            assert sum(d.allowed for d in decisions) == 10
    finally:
        for client in clients:
            await client.aclose()


async def test_sessions_profiles_scores_and_ranks_on_a_cluster(
    cluster_client: AsyncTestClient[Litestar],
) -> None:
    client = cluster_client
    board = f"c-{uuid.uuid4().hex[:10]}"
    body = {"id": board, "rate_limit": {"limit": 1000, "window_seconds": 60}, "overtake_events": 0}
    assert (await client.post("/v1/leaderboards", json=body, headers=ADMIN)).status_code == 201
    players = [await sign_in(client, display_name=f"P{i}") for i in range(5)]
    for i, (_, headers) in enumerate(players):
        response = await client.post(
            f"/v1/leaderboards/{board}/scores", json={"score": i * 10}, headers=headers
        )
        assert response.status_code == 200, response.text
    top = (await client.get(f"/v1/leaderboards/{board}/top")).json()
    assert [e["display_name"] for e in top["entries"]] == ["P4", "P3", "P2", "P1", "P0"]
    player, headers = players[0]
    patched = await client.patch(
        f"/v1/players/{player}", json={"display_name": "Renamed"}, headers=headers
    )
    assert patched.status_code == 200
    assert (await client.get(f"/v1/players/{player}")).json()["display_name"] == "Renamed"
    assert (await client.delete(f"/v1/players/{player}", headers=headers)).status_code == 204
    assert (await client.get("/v1/players/me", headers=headers)).status_code == 401
    top = (await client.get(f"/v1/leaderboards/{board}/top")).json()
    assert player not in [e["player_id"] for e in top["entries"]]
    assert (await client.delete(f"/v1/leaderboards/{board}", headers=ADMIN)).status_code == 204


async def board_and_player(http: httpx.AsyncClient, limit: int) -> tuple[str, str, dict[str, str]]:
    """A new board (admin) and a new player: (board id, player id, the player's headers)."""
    board = f"c-{uuid.uuid4().hex[:10]}"
    body = {"id": board, "rate_limit": {"limit": limit, "window_seconds": 60}}
    assert (await http.post("/v1/leaderboards", json=body, headers=ADMIN)).status_code == 201
    signed = (await http.post("/v1/auth/device", json={"device_id": f"d-{uuid.uuid4()}"})).json()
    return board, signed["player_id"], {"Authorization": f"Bearer {signed['token']}"}


@asynccontextmanager
async def two_workers(
    settings: Settings,
) -> AsyncIterator[tuple[list[Litestar], list[httpx.AsyncClient]]]:
    """Two app instances over the same cluster, as two worker processes would be."""
    apps = [create_app(settings) for _ in range(2)]
    async with running(apps[0]), running(apps[1]):
        transports = [httpx.ASGITransport(app=app) for app in apps]  # type: ignore[arg-type]
        async with (
            httpx.AsyncClient(transport=transports[0], base_url="http://a") as first,
            httpx.AsyncClient(transport=transports[1], base_url="http://b") as second,
        ):
            yield apps, [first, second]


async def test_two_workers_share_one_limit_on_a_cluster(cluster_settings: Settings) -> None:
    """Two app instances (two workers) against one board limit: exactly the limit passes."""
    async with two_workers(cluster_settings) as (_, http):
        board, _, auth = await board_and_player(http[0], limit=5)
        responses = await asyncio.gather(
            *(
                http[i % 2].post(
                    f"/v1/leaderboards/{board}/scores", json={"score": i}, headers=auth
                )
                for i in range(20)
            )
        )
        assert [r.status_code for r in responses].count(200) == 5


async def test_every_subscriber_of_every_worker_gets_every_event_on_a_cluster(
    cluster_settings: Settings,
) -> None:
    """Sharded pub/sub: each worker's hub SSUBSCRIBEs per board; `watch` does too."""
    async with two_workers(cluster_settings) as (apps, http):
        board, player, auth = await board_and_player(http[0], limit=100)
        hubs = [app.plugins.get(InfrastructurePlugin).services.get(EventHub) for app in apps]
        watched: list[str] = []
        # Events from `started` on are printed even if they come before the subscription.
        started = time.monotonic()
        watcher = asyncio.create_task(
            watch(
                cluster_settings,
                board,
                from_start=False,
                emit=watched.append,
                started=started,
                stop_after=4,
            )
        )
        topic = hubs[0].board(board)
        with hubs[0].subscribe(topic) as first, hubs[1].subscribe(topic) as second:
            assert await hubs[0].wait_connected(topic)
            assert await hubs[1].wait_connected(topic)
            for i, score in enumerate((10, 20, 30, 40)):  # submitted through both workers
                response = await http[i % 2].post(
                    f"/v1/leaderboards/{board}/scores", json={"score": score}, headers=auth
                )
                assert response.status_code == 200
            for subscription in (first, second):
                scores = []
                for _ in range(4):
                    message = await subscription.next(timeout=5)
                    assert message is not None
                    event = msgspec.json.decode(message, type=RankChanged)
                    assert event.player_id == player
                    scores.append(event.score)
                assert scores == [10, 20, 30, 40]
        await asyncio.wait_for(watcher, 10)
        assert [msgspec.json.decode(line, type=RankChanged).score for line in watched] == [
            10, 20, 30, 40,
        ]  # fmt: skip


async def test_a_reset_of_the_client_lets_the_calls_in_flight_finish(
    cluster_settings: Settings,
) -> None:
    """redis-py resets a cluster client (``aclose``) after CLUSTERDOWN, a failed pipeline
    or MOVED; the other requests' calls under way at that moment must not fail for it."""
    assert cluster_settings.redis_url is not None
    client = create_redis(cluster_settings, cluster_settings.redis_url)
    await initialize(client)
    prefix = f"{cluster_settings.redis_key_prefix}reset:"
    try:
        for _ in range(3):
            calls = [asyncio.ensure_future(client.incr(f"{prefix}{i}")) for i in range(300)]
            await asyncio.sleep(0)  # one turn of the loop: every call is on a connection now
            await client.aclose()
            results = await asyncio.gather(*calls, return_exceptions=True)
            failed = [r for r in results if isinstance(r, BaseException)]
            assert not failed, failed[:3]
        assert await client.get(f"{prefix}0") == "3"  # and the client works on
    finally:
        await close_redis(client)
