"""The service's Redis connections pack commands with hiredis, byte for byte as redis-py."""

from __future__ import annotations

from typing import Any

import pytest
import redis.exceptions
from redis.asyncio import RedisCluster
from redis.asyncio.connection import Connection
from redis.typing import EncodableT

from leaderboard.lib.redis_client import AnyRedis, close_redis, create_redis
from leaderboard.lib.redis_packing import HiredisPacking, packed_by_hiredis
from leaderboard.lib.settings import Settings

COMMANDS: list[tuple[Any, ...]] = [
    ("SET", "k", "v"),
    ("CLIENT SETNAME", "worker-1"),  # a name with a space: two arguments
    (b"CONFIG GET", "maxmemory*"),
    ("ZADD", "board", -12_345, "0000000000000001:p"),
    ("ZADD", "board", 2**63 - 1, "big"),
    ("HSET", "h", "f", 1.5, "g", 1e300, "e", 2.5e-05),
    ("SET", "name", "Zoë 🎮 名前"),
    ("SET", b"\x00\xff", memoryview(b"raw")),
    ("SET", "k", bytearray(b"bytes")),  # hiredis refuses it: redis-py packs it
    ("EVALSHA", "a" * 40, 3, *(f"{{b}}:key:{i}" for i in range(3)), *range(88)),
]


def packed(connection: Connection, *args: Any) -> bytes:
    return b"".join(connection.pack_command(*args))


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: str(args[0]))
def test_hiredis_packs_every_argument_kind_as_redis_py_does(args: tuple[Any, ...]) -> None:
    ours = packed_by_hiredis(Connection)()
    assert isinstance(ours, HiredisPacking)
    assert packed(ours, *args) == packed(Connection(), *args)


@pytest.mark.parametrize("bad", [True, None, object()])
def test_an_argument_redis_py_refuses_is_refused_alike(bad: Any) -> None:
    ours = packed_by_hiredis(Connection)()
    with pytest.raises(redis.exceptions.DataError):
        ours.pack_command("SET", "k", bad)
    with pytest.raises(redis.exceptions.DataError):
        Connection().pack_command("SET", "k", bad)


def connection_class(client: AnyRedis) -> Any:
    if isinstance(client, RedisCluster):
        return client.connection_kwargs["connection_class"]
    return client.connection_pool.connection_class


@pytest.mark.redis_modes
async def test_the_service_client_packs_with_hiredis_and_round_trips(
    settings: Settings, redis_url: str, redis_key_prefix: str
) -> None:
    client = create_redis(settings, redis_url)
    key = f"{redis_key_prefix}{{packing}}:h"
    try:
        assert issubclass(connection_class(client), HiredisPacking)
        values: dict[EncodableT, EncodableT] = {
            "int": -(2**53),
            "float": 0.1,
            "text": "Zoë 🎮",
            "bytes": b"\x00\xff",
        }
        await client.hset(key, mapping=values)
        await client.expire(key, 60)
        script = "return {redis.call('HGET', KEYS[1], ARGV[1]), ARGV[2], #ARGV}"
        reply = await client.eval(script, 1, key, "text", 42, *range(100))
        assert reply == ["Zoë 🎮", "42", 102]
        assert await client.hget(key, "int") == str(-(2**53))
        assert await client.hget(key, "float") == "0.1"
    finally:
        await client.delete(key)
        await close_redis(client)
