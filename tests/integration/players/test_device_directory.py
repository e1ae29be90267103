"""The device directory (players/devices.py): known devices sign in without Postgres.

Through the app over real Postgres and Redis: the entry a sign-in leaves, that a later
sign-in takes the directory's answer, and that bans and deletions (tombstones written
before they commit) are never undone by a sign-in that read the row before them.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.lib.settings import Settings
from leaderboard.players.devices import TOMBSTONE, TOMBSTONE_TTL_MS, DeviceDirectory
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.conftest import ADMIN

pytestmark = pytest.mark.redis_modes

Client = AsyncTestClient[Litestar]


def entry(keys: Keys, device: str) -> str:
    return keys.device(hashlib.sha256(device.encode()).hexdigest())


async def sign_in(client: Client, device: str) -> tuple[int, dict[str, object]]:
    response = await client.post("/v1/auth/device", json={"device_id": device})
    return response.status_code, response.json()


@pytest.fixture
def keys(settings: Settings) -> Keys:
    return Keys(settings.redis_key_prefix)


async def test_a_sign_in_remembers_the_device_for_the_configured_time(
    client: Client, redis: AnyRedis, keys: Keys, settings: Settings
) -> None:
    device = f"device-{uuid.uuid4()}"
    status, body = await sign_in(client, device)
    assert status == 200
    assert body["created"] is True
    assert await redis.get(entry(keys, device)) == body["player_id"]
    ttl_ms = await redis.pttl(entry(keys, device))
    assert settings.device_cache_ttl_seconds * 1000 - 60_000 < ttl_ms
    assert ttl_ms <= settings.device_cache_ttl_seconds * 1000


async def test_a_known_device_takes_the_directorys_answer(
    client: Client, redis: AnyRedis, keys: Keys
) -> None:
    """The directory, not Postgres, answers: an entry naming another player is believed."""
    device, other = f"device-{uuid.uuid4()}", f"device-{uuid.uuid4()}"
    _, first = await sign_in(client, device)
    _, second = await sign_in(client, other)
    await redis.set(entry(keys, device), str(second["player_id"]), keepttl=True)
    status, again = await sign_in(client, device)
    assert status == 200
    assert again["player_id"] == second["player_id"] != first["player_id"]
    assert again["created"] is False
    me = await client.get("/v1/players/me", headers={"Authorization": f"Bearer {again['token']}"})
    assert me.json()["player_id"] == second["player_id"]


async def test_a_known_devices_sign_in_makes_two_round_trips(client: Client) -> None:
    """The rate-limit slot and the lookup leave in one batch, even with nothing else out."""
    device = f"device-{uuid.uuid4()}"
    assert (await sign_in(client, device))[0] == 200  # made in Postgres, then remembered
    batcher = client.app.plugins.get(InfrastructurePlugin).services.infra.pipeline.batcher
    batches, items = batcher.batches_sent, batcher.items_sent
    status, body = await sign_in(client, device)
    assert status == 200
    assert body["created"] is False
    # Three script calls (slot, lookup, session) in two round trips, not three.
    assert (batcher.batches_sent - batches, batcher.items_sent - items) == (2, 3)


async def test_a_ban_tombstones_the_device_and_its_sign_ins_are_refused(
    client: Client, redis: AnyRedis, keys: Keys
) -> None:
    device = f"device-{uuid.uuid4()}"
    _, body = await sign_in(client, device)
    player = body["player_id"]
    assert (await client.post(f"/v1/players/{player}/ban", headers=ADMIN)).status_code == 204
    assert await redis.get(entry(keys, device)) == TOMBSTONE
    assert 0 < await redis.pttl(entry(keys, device)) <= TOMBSTONE_TTL_MS
    assert (await sign_in(client, device))[0] == 403
    # The tombstone gone (expired): Postgres still refuses, and nothing is remembered.
    await redis.delete(entry(keys, device))
    assert (await sign_in(client, device))[0] == 403
    assert await redis.exists(entry(keys, device)) == 0
    # Unbanned: the device signs in again as its player, and is remembered once more.
    assert (await client.delete(f"/v1/players/{player}/ban", headers=ADMIN)).status_code == 204
    status, again = await sign_in(client, device)
    assert (status, again["player_id"]) == (200, player)
    assert await redis.get(entry(keys, device)) == player


async def test_a_deleted_players_device_makes_a_new_player(
    client: Client, redis: AnyRedis, keys: Keys
) -> None:
    device = f"device-{uuid.uuid4()}"
    _, body = await sign_in(client, device)
    deleted = await client.delete(f"/v1/players/{body['player_id']}", headers=ADMIN)
    assert deleted.status_code == 204
    assert await redis.get(entry(keys, device)) == TOMBSTONE
    status, again = await sign_in(client, device)
    assert status == 200
    assert again["created"] is True
    assert again["player_id"] != body["player_id"]
    # The tombstone holds until it expires: the new player is read from Postgres.
    assert await redis.get(entry(keys, device)) == TOMBSTONE
    assert (await sign_in(client, device))[1]["player_id"] == again["player_id"]


async def test_a_fill_never_replaces_a_tombstone(redis: AnyRedis, keys: Keys) -> None:
    """A sign-in that read the row before a ban committed cannot put it back."""
    directory = DeviceDirectory(ScriptPipeline(redis), keys, ttl_seconds=3600)
    device = hashlib.sha256(uuid.uuid4().bytes).digest()
    await directory.forget(device)  # the ban, before its commit
    await directory.remember(device, str(uuid.uuid4()))  # the stale sign-in's fill
    assert await directory.player_of(device) is None
    assert await redis.get(keys.device(device.hex())) == TOMBSTONE


async def test_the_directory_can_be_turned_off(
    settings: Settings, redis: AnyRedis, keys: Keys, tmp_path: Path
) -> None:
    off = msgspec.structs.replace(settings, device_cache_ttl_seconds=0)
    async with AsyncTestClient(app=create_app(off)) as client:
        device = f"device-{uuid.uuid4()}"
        _, first = await sign_in(client, device)
        _, second = await sign_in(client, device)
    assert first["player_id"] == second["player_id"]
    assert await redis.exists(entry(keys, device)) == 0


async def test_a_rate_limited_sign_in_is_refused_whatever_the_directory_says(
    settings: Settings, redis: AnyRedis, keys: Keys
) -> None:
    limited = msgspec.structs.replace(settings, auth_rate_limit=1)
    async with AsyncTestClient(app=create_app(limited)) as client:
        device = f"device-{uuid.uuid4()}"
        assert (await sign_in(client, device))[0] == 200
        assert await redis.exists(entry(keys, device)) == 1
        response = await client.post("/v1/auth/device", json={"device_id": device})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
