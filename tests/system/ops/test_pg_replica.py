"""A read replica (LEADERBOARD_DATABASE_REPLICA_URL): it does the reading, never the deciding.

Against a real streaming replica (tests/streaming_replica.py: ``pg_basebackup -R`` of an
embedded primary). Profile-cache misses and rebuilds read it; a replica whose replay is
paused (lagging) or that is stopped (dead) sends them to the primary, so a read after a
write still sees the write, also when the cache entry is gone (nothing stale can be
filled back in).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar

from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.replica import ReadReplica
from leaderboard.lib.settings import Settings
from leaderboard.ops.migrations import apply_migrations
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.conftest import ADMIN, running
from tests.helpers import async_wait_until
from tests.scores_helpers import create_board, insert_players, submit, top
from tests.streaming_replica import StreamingPair, replayed, streaming_pair

DATABASE = "leaderboard"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamingPair]:
    with streaming_pair(tmp_path_factory.mktemp("streaming")) as pair:
        asyncio.run(_create_database(pair))
        yield pair


async def _create_database(pair: StreamingPair) -> None:
    conn = await asyncpg.connect(pair.primary_url())
    try:
        await conn.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await conn.close()
    await apply_migrations(pair.primary_url(DATABASE))
    await replayed(pair.standby_url(), pair.primary_url(DATABASE))


class Live(msgspec.Struct):
    http: httpx.AsyncClient
    app: Litestar
    pair: StreamingPair
    keys: Keys

    @property
    def reads(self) -> ReadReplica:
        return self.app.plugins.get(InfrastructurePlugin).services.infra.replica

    def served(self, by: str) -> int:
        return self.reads.served[by]

    async def caught_up(self) -> None:
        await replayed(self.pair.standby_url(DATABASE), self.pair.primary_url(DATABASE))


@pytest.fixture
async def live(
    settings: Settings, redis: AnyRedis, redis_key_prefix: str, pair: StreamingPair
) -> AsyncIterator[Live]:
    with_replica = msgspec.structs.replace(
        settings,
        database_url=pair.primary_url(DATABASE),
        database_replica_url=pair.standby_url(DATABASE),
    )
    app = create_app(with_replica)
    transport = httpx.ASGITransport(app=cast("Any", app))  # Litestar's own ASGI types
    async with (
        running(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http,
    ):
        yield Live(http, app, pair, Keys(redis_key_prefix))


@asynccontextmanager
async def replay_paused(pair: StreamingPair) -> AsyncIterator[None]:
    """The standby receives WAL but applies none of it: it lags ever further behind."""
    conn = await asyncpg.connect(pair.standby_url(DATABASE))
    try:
        await conn.execute("SELECT pg_wal_replay_pause()")
        yield
    finally:
        await conn.execute("SELECT pg_wal_replay_resume()")
        await conn.close()


async def standby_value(pair: StreamingPair, query: str, *args: Any) -> Any:
    conn = await asyncpg.connect(pair.standby_url(DATABASE))
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def new_player(live: Live, name: str) -> str:
    response = await live.http.post("/v1/players", json={"display_name": name}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(response.json()["player_id"])


async def read_profile(live: Live, redis: AnyRedis, player_id: str) -> dict[str, Any]:
    """A cache miss: the entry is dropped first (as eviction or expiry would)."""
    await redis.delete(live.keys.profile(player_id))
    response = await live.http.get(f"/v1/players/{player_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def replica_serves_again(live: Live, redis: AnyRedis, player_id: str) -> None:
    """After a lag or an outage the replica is asked again (after its back-off)."""
    await live.caught_up()

    async def served_by_replica() -> bool:
        before = live.served("replica")
        await read_profile(live, redis, player_id)
        return live.served("replica") > before

    await async_wait_until(served_by_replica, 10, "profile misses served by the replica again")


async def test_profile_misses_are_read_from_the_replica(live: Live, redis: AnyRedis) -> None:
    player_id = await new_player(live, "Replica-Reader")
    await live.caught_up()
    before = live.served("replica")
    profile = await read_profile(live, redis, player_id)
    assert profile["display_name"] == "Replica-Reader"
    assert live.served("replica") == before + 1


async def test_a_read_after_a_patch_is_fresh_while_the_replica_lags(
    live: Live, redis: AnyRedis
) -> None:
    player_id = await new_player(live, "Before")
    await live.caught_up()
    async with replay_paused(live.pair):
        response = await live.http.patch(
            f"/v1/players/{player_id}", json={"display_name": "After"}, headers=ADMIN
        )
        assert response.status_code == 200, response.text
        # The replica really is behind: it still has the old row.
        name = "SELECT display_name FROM players WHERE id = $1"
        assert await standby_value(live.pair, name, uuid.UUID(player_id)) == "Before"

        # The cache entry is gone (evicted): the miss must not read the old row, nor put
        # it back into the cache.
        before = live.served("primary")
        profile = await read_profile(live, redis, player_id)
        assert (profile["display_name"], profile["version"]) == ("After", 2)
        assert live.served("primary") == before + 1
        cached = await redis.hget(live.keys.profile(player_id), "v")
        assert cached == "2"
        response = await live.http.get(f"/v1/players/{player_id}")  # from the cache
        assert response.json()["display_name"] == "After"

        # Pages read names in bulk (get_many): fresh too.
        board_id = await create_board(live.http)
        await submit(live.http, board_id, player_id, 10)
        await redis.delete(live.keys.profile(player_id))
        page = await top(live.http, board_id)
        assert [e["display_name"] for e in page["entries"]] == ["After"]
    await replica_serves_again(live, redis, player_id)


async def test_the_service_keeps_working_while_the_replica_is_down(
    live: Live, redis: AnyRedis
) -> None:
    live.reads.failure_backoff = 1.0  # not ten seconds: the test waits for its return
    player_id = await new_player(live, "Survivor")
    board_id = await create_board(live.http)
    await submit(live.http, board_id, player_id, 5)
    await live.caught_up()
    live.pair.standby.stop()
    try:
        response = await live.http.patch(
            f"/v1/players/{player_id}", json={"display_name": "Still-Here"}, headers=ADMIN
        )
        assert response.status_code == 200, response.text
        profile = await read_profile(live, redis, player_id)
        assert profile["display_name"] == "Still-Here"
        # A rebuild (the index is gone) reads the primary.
        await submit(live.http, board_id, player_id, 7)
        for key in [k async for k in redis.scan_iter(match=live.keys.board_pattern(board_id))]:
            await redis.delete(key)
        page = await top(live.http, board_id)
        assert [(e["player_id"], e["score"]) for e in page["entries"]] == [(player_id, 7)]
    finally:
        live.pair.standby.start(same_port=True)
    await replica_serves_again(live, redis, player_id)


async def test_rebuilds_read_the_replica_and_a_lagging_one_is_not_used(
    live: Live, redis: AnyRedis
) -> None:
    database_url = live.pair.primary_url(DATABASE)
    board_id = await create_board(live.http)
    players = [player_id for player_id, _ in await insert_players(database_url, 300)]
    await asyncio.gather(*(submit(live.http, board_id, p, i) for i, p in enumerate(players)))

    async def lose_index() -> None:
        for key in [k async for k in redis.scan_iter(match=live.keys.board_pattern(board_id))]:
            await redis.delete(key)

    async def rebuilt_from_the_replica() -> bool:
        # A background write to the primary (the index guard folding digests, the
        # retention job) may land between the catch-up and the rebuild's fence, which
        # then rightly reads the primary: try again, the replica caught up anew.
        await live.caught_up()
        await lose_index()
        before = live.served("replica")
        page = await top(live.http, board_id)
        assert page["total"] == 300
        return live.served("replica") > before

    await async_wait_until(rebuilt_from_the_replica, 30, "a rebuild that reads the replica")

    async with replay_paused(live.pair):
        latest = players[:50]
        for player_id in latest:
            await submit(live.http, board_id, player_id, 1000)
        await lose_index()
        before = live.served("primary")
        page = await top(live.http, board_id, limit=50)
        # What the paused replica does not have yet is in the rebuilt index all the same.
        assert {e["player_id"] for e in page["entries"]} == set(latest)
        assert live.served("primary") > before


async def test_a_server_that_is_not_in_recovery_is_never_read(live: Live) -> None:
    """A replica URL that points at a primary (a promoted standby, a mistake) is not trusted."""
    reads = ReadReplica(live.reads.primary, live.reads.primary)
    try:
        rows = await reads.fetch("SELECT 1 AS one")
        assert [r["one"] for r in rows] == [1]
        assert reads.served == {"replica": 0, "primary": 1}
    finally:
        reads.replica = None  # the primary's pool is the app's to close
