"""The profile cache under the service: hits, misses, races, single flight, outages.

Two PlayerService instances over the same Postgres and Redis stand for two workers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from leaderboard.lib.db import Database
from leaderboard.lib.errors import DependencyUnavailableError, InvalidInputError, NotFoundError
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis, create_redis
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.lib.settings import Settings
from leaderboard.ops.embedded import EmbeddedValkey
from leaderboard.players.cache import PlayerCache
from leaderboard.players.devices import DeviceDirectory
from leaderboard.players.models import ProfilePatch
from leaderboard.players.repository import PlayerRepository
from leaderboard.players.service import PlayerService
from leaderboard.server.app import create_app
from tests.conftest import ADMIN, CLUSTER
from tests.helpers import async_wait_until, sign_in

pytestmark = pytest.mark.redis_modes

TTL = 3600


class Reads:
    """An after-read hook that counts Postgres reads and can hold the reader there."""

    def __init__(self) -> None:
        self.count = 0
        self.ids: list[str] = []
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    def hold(self) -> None:
        self.release.clear()

    async def __call__(self, ids: Sequence[str]) -> None:
        self.count += 1
        self.ids.extend(ids)
        self.entered.set()
        await self.release.wait()


def make_service(
    db: Database, redis: AnyRedis, keys: Keys, reads: Reads | None = None, negative_ttl: int = 30
) -> PlayerService:
    pipeline = ScriptPipeline(redis)
    cache = PlayerCache(
        redis, keys, ttl_seconds=TTL, negative_ttl_seconds=negative_ttl, pipeline=pipeline
    )
    devices = DeviceDirectory(pipeline, keys, ttl_seconds=3600)
    return PlayerService(db, PlayerRepository(db), cache, devices, after_read=reads)


@pytest.fixture
def keys(redis_key_prefix: str) -> Keys:
    return Keys(redis_key_prefix)


async def new_player(service: PlayerService, name: str = "Original") -> str:
    profile, _ = await service.register_device(f"device-{uuid.uuid4()}", name)
    return profile.player_id


async def test_miss_then_hit(db: Database, redis: AnyRedis, keys: Keys) -> None:
    reads = Reads()
    service = make_service(db, redis, keys, reads)
    player_id = await new_player(make_service(db, redis, keys))
    await redis.unlink(keys.profile(player_id))

    first = await service.get(player_id)
    assert reads.count == 1
    second = await service.get(player_id)
    assert reads.count == 1, "the second read is a cache hit"
    assert first == second
    assert await redis.hget(keys.profile(player_id), "v") == "1"


async def test_ttl_has_jitter_within_ten_percent(db: Database, redis: AnyRedis, keys: Keys) -> None:
    service = make_service(db, redis, keys)
    ids = [await new_player(service) for _ in range(30)]
    ttls = [await redis.pttl(keys.profile(pid)) for pid in ids]
    assert all(0.9 * TTL * 1000 - 5000 <= ttl <= 1.1 * TTL * 1000 for ttl in ttls), ttls
    assert len(set(ttls)) > 20, "expiries are spread, not all equal"


async def test_unknown_players_are_cached_negatively(
    db: Database, redis: AnyRedis, keys: Keys
) -> None:
    reads = Reads()
    service = make_service(db, redis, keys, reads)
    unknown = str(uuid.uuid4())
    for _ in range(5):
        with pytest.raises(NotFoundError):
            await service.get(unknown)
    assert reads.count == 1, "a flood of lookups for a missing id reaches Postgres once"
    assert await redis.hget(keys.profile(unknown), "missing") == "1"
    assert 0 < await redis.pttl(keys.profile(unknown)) <= 30_000


async def test_a_new_player_replaces_a_negative_entry(
    db: Database, redis: AnyRedis, keys: Keys
) -> None:
    service = make_service(db, redis, keys)
    with pytest.raises(NotFoundError):
        await service.get(str(uuid.uuid4()))  # unrelated, but exercises the path
    player_id = await new_player(service)
    assert (await service.get(player_id)).player_id == player_id


async def test_a_write_is_seen_by_every_worker_at_once(
    db: Database, redis: AnyRedis, keys: Keys
) -> None:
    worker_a, worker_b = make_service(db, redis, keys), make_service(db, redis, keys)
    player_id = await new_player(worker_a)
    assert (await worker_a.get(player_id)).display_name == "Original"
    await worker_b.update(player_id, ProfilePatch(display_name="Changed"))
    assert (await worker_a.get(player_id)).display_name == "Changed"
    await worker_b.delete(player_id)
    with pytest.raises(NotFoundError):
        await worker_a.get(player_id)


async def test_the_stale_fill_race_is_closed(db: Database, redis: AnyRedis, keys: Keys) -> None:
    """Reader misses and reads v1; writer commits v2; the reader's late fill of v1 is refused."""
    reads = Reads()
    reader = make_service(db, redis, keys, reads)
    writer = make_service(db, redis, keys)
    player_id = await new_player(writer)
    await redis.unlink(keys.profile(player_id))

    reads.hold()
    pending = asyncio.create_task(reader.get(player_id))
    await asyncio.wait_for(reads.entered.wait(), 5)  # the reader has v1 in hand, not yet cached

    updated = await writer.update(player_id, ProfilePatch(display_name="Fresh"))
    assert updated.version == 2
    reads.release.set()
    stale = await pending
    assert stale.version == 1  # it read before the commit: a legal answer for that read

    assert await redis.hget(keys.profile(player_id), "v") == "2"
    assert (await reader.get(player_id)).display_name == "Fresh"
    assert (await make_service(db, redis, keys).get(player_id)).display_name == "Fresh"


async def test_a_tombstone_refuses_older_fills_even_without_the_writers_fill(
    db: Database, redis: AnyRedis, keys: Keys
) -> None:
    """The writer's post-commit fill may never happen (it crashed): the tombstone still guards."""
    service = make_service(db, redis, keys)
    cache = PlayerCache(
        redis, keys, ttl_seconds=TTL, negative_ttl_seconds=30, pipeline=ScriptPipeline(redis)
    )
    player_id = await new_player(service)
    v1 = await service.get(player_id)
    await cache.invalidate(player_id, 2)
    assert await cache.put(v1) is False, "an older version is refused"
    assert await cache.get(player_id) is None, "a tombstone reads as a miss"
    v2 = msgspec.structs.replace(v1, version=2, display_name="Two")
    assert await cache.put(v2) is True, "the tombstoned version itself is accepted"
    assert await cache.put(v1) is False
    assert await cache.get(player_id) == v2
    assert await cache.put(v2) is False, "the same version is not written twice"


async def test_concurrent_misses_make_one_query(db: Database, redis: AnyRedis, keys: Keys) -> None:
    reads = Reads()
    service = make_service(db, redis, keys, reads)
    player_id = await new_player(make_service(db, redis, keys))
    await redis.unlink(keys.profile(player_id))

    reads.hold()
    tasks = [asyncio.create_task(service.get(player_id)) for _ in range(25)]
    await asyncio.wait_for(reads.entered.wait(), 5)

    async def all_joined() -> bool:
        return service.coalesced_reads == 24

    await async_wait_until(all_joined, 5, "the other 24 reads to join the one in flight")
    reads.release.set()
    profiles = await asyncio.gather(*tasks)
    assert reads.count == 1
    assert len({p.player_id for p in profiles}) == 1


async def test_bulk_lookup(db: Database, redis: AnyRedis, keys: Keys) -> None:
    reads = Reads()
    service = make_service(db, redis, keys, reads)
    known = [await new_player(make_service(db, redis, keys), f"P{i}") for i in range(20)]
    cached_before = known[:5]
    for pid in known[5:]:
        await redis.unlink(keys.profile(pid))
    unknown = [str(uuid.uuid4()) for _ in range(980)]

    found = await service.get_many(known + unknown)
    assert set(found) == set(known)
    assert {found[pid].display_name for pid in known} == {f"P{i}" for i in range(20)}
    assert reads.count == 1, "one Postgres query for every miss"
    assert set(reads.ids) == set(known[5:]) | set(unknown)
    assert not set(reads.ids) & set(cached_before)

    again = await service.get_many(known + unknown)
    assert again == found
    assert reads.count == 1, "then every id is a hit (profiles and negative entries)"


async def test_a_bulk_lookups_fills_leave_in_one_round_trip(
    db: Database, redis: AnyRedis, keys: Keys
) -> None:
    pipeline = ScriptPipeline(redis)
    cache = PlayerCache(redis, keys, ttl_seconds=TTL, negative_ttl_seconds=30, pipeline=pipeline)
    devices = DeviceDirectory(pipeline, keys, ttl_seconds=3600)
    service = PlayerService(db, PlayerRepository(db), cache, devices)
    known = [await new_player(make_service(db, redis, keys), f"P{i}") for i in range(5)]
    for pid in known:
        await redis.unlink(keys.profile(pid))
    unknown = [str(uuid.uuid4()) for _ in range(3)]
    batches, items = pipeline.batcher.batches_sent, pipeline.batcher.items_sent
    assert set(await service.get_many(known + unknown)) == set(known)
    # Five profiles and three negative entries: eight fills, one batch (nothing else out).
    assert (pipeline.batcher.batches_sent - batches, pipeline.batcher.items_sent - items) == (1, 8)
    for pid in known + unknown:
        assert await redis.exists(keys.profile(pid)), pid


async def test_bulk_lookup_is_capped(db: Database, redis: AnyRedis, keys: Keys) -> None:
    with pytest.raises(InvalidInputError):
        await make_service(db, redis, keys).get_many([str(uuid.uuid4()) for _ in range(1001)])


# -- Redis down: reads fall back to Postgres, writes are refused before they commit --------


@pytest.mark.slow
@pytest.mark.single_node(reason="stops and restarts a Valkey of its own")
async def test_redis_down_reads_from_postgres_and_refuses_writes(
    settings: Settings, own_valkey: EmbeddedValkey, db: Database
) -> None:
    own = msgspec.structs.replace(settings, redis_url=own_valkey.url, redis_timeout=0.5)
    async with AsyncTestClient(app=create_app(own)) as client:
        player_id, headers = await sign_in(client, display_name="Before")
        url = f"/v1/players/{player_id}"
        assert (await client.get(url)).status_code == 200
        own_valkey.stop()

        for _ in range(3):
            read = await client.get(url)
            assert read.status_code == 200
            assert read.json()["display_name"] == "Before"
        write = await client.patch(url, json={"display_name": "After"}, headers=ADMIN)
        assert write.status_code == 503
        assert write.json()["dependency"] == "redis"
        deletion = await client.delete(url, headers=ADMIN)
        assert deletion.status_code == 503
        row = await db.fetchrow(
            "SELECT display_name, version FROM players WHERE id = $1", player_id
        )
        assert row is not None
        assert (row["display_name"], row["version"]) == ("Before", 1), "nothing committed"

        own_valkey.start()
        redis = create_redis(own, own_valkey.url)
        try:
            await redis.ping()
        finally:
            await redis.aclose()

        async def write_works() -> bool:
            response = await client.patch(url, json={"display_name": "After"}, headers=ADMIN)
            return response.status_code == 200

        await async_wait_until(write_works, 10, "writes to work again")
        assert (await client.get(url)).json()["display_name"] == "After"
        assert headers  # the player's own session lived in the restarted Valkey


async def test_a_write_while_the_cache_is_marked_down_is_refused_at_once(
    db: Database, redis: AnyRedis, keys: Keys, redis_mode: str
) -> None:
    service = make_service(db, redis, keys)
    player_id = await new_player(service)
    unreachable = Settings(redis_timeout=0.5, redis_cluster=redis_mode == CLUSTER)
    broken = create_redis(unreachable, "redis://127.0.0.1:1/0")
    try:
        down = make_service(db, broken, keys)
        assert (await down.get(player_id)).player_id == player_id  # read falls back
        with pytest.raises(DependencyUnavailableError):
            await down.update(player_id, ProfilePatch(display_name="Nope"))
    finally:
        await broken.aclose()
    assert (await service.get(player_id)).display_name == "Original"
