"""The redis-py asyncio client: one per worker, opened in the app's lifespan.

Protocol: RESP2, pinned on purpose (docs/decisions.md). redis-py 8 defaults to RESP3,
which changes reply shapes (``ZRANGE … WITHSCORES`` pairs, maps for hashes); RESP2 keeps
the shapes Litestar's Redis integrations and our Lua scripts are written against.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import redis.exceptions
from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from leaderboard.lib.settings import Settings

RESP_PROTOCOL = 2
# Connections per cluster node and worker (see create_redis).
CLUSTER_MAX_CONNECTIONS = 1000

logger = logging.getLogger(__name__)

AnyRedis = Redis | RedisCluster

# Errors that mean "Redis is not there right now", as opposed to a bug in a command.
REDIS_OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,
    # Out of memory (noeviction) or a read-only replica after a failover: Redis cannot
    # take writes right now, which for the caller is an outage, not a bug.
    redis.exceptions.OutOfMemoryError,
    redis.exceptions.ReadOnlyError,
)


def create_redis(settings: Settings, url: str) -> AnyRedis:
    """A client with short timeouts and a small retry budget, so an outage fails fast."""
    # One retry on a broken connection: a pooled connection to a server that restarted or
    # failed over is dead, and its reconnect is what the retry does. Never on a timeout:
    # a hung server would cost twice the wait, and the timed-out call may have run.
    # (The asyncio client needs redis.asyncio's Retry: the synchronous one never retries.)
    retry = Retry(
        ExponentialBackoff(cap=0.2, base=0.02),
        retries=1,
        supported_errors=(redis.exceptions.ConnectionError,),
    )
    common: dict[str, Any] = {
        "protocol": RESP_PROTOCOL,
        "decode_responses": True,
        "socket_timeout": settings.redis_timeout,
        "socket_connect_timeout": settings.redis_timeout,
        "health_check_interval": 30,
        "retry": retry,
    }
    if settings.redis_cluster:
        # redis-py's cluster pool never waits for a free connection (it raises at once), so
        # it gets room for bursts; most calls share a few pipelines (lib/scripts.py).
        return OutageAwareRedisCluster.from_url(
            url, max_connections=CLUSTER_MAX_CONNECTIONS, **common
        )
    # Under a burst, wait (up to the timeout) for one of a bounded number of connections
    # instead of failing with "Too many connections" or opening hundreds.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_timeout,
        **common,
    )
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes it


def create_subscriber(settings: Settings, url: str) -> AnyRedis:
    """A client for long-lived pub/sub connections.

    No command timeout (a subscription is idle between events); a health check every
    5 s and TCP keepalive notice a dead or hung peer instead.
    """
    common: dict[str, Any] = {
        "protocol": RESP_PROTOCOL,
        "decode_responses": True,
        "socket_connect_timeout": settings.redis_timeout,
        "health_check_interval": 5,
        "socket_keepalive": True,
    }
    if settings.redis_cluster:
        return OutageAwareRedisCluster.from_url(url, **common)
    return Redis.from_url(url, **common)


class OutageAwareRedisCluster(RedisCluster):
    """A RedisCluster for which "no cluster node answers" is a ConnectionError.

    redis-py raises a plain RedisClusterException when it cannot load the slot map (no
    startup node reachable, slots not covered). It raises the same class for client
    mistakes (a command its cluster pipeline refuses), so the class cannot join
    REDIS_OUTAGE_ERRORS; loading the slot map is where an outage is known for sure, and
    every command and pipeline goes through it while the map is not loaded.
    """

    async def initialize(self, *args: Any, **kwargs: Any) -> RedisCluster:
        try:
            return await super().initialize(*args, **kwargs)
        except redis.exceptions.RedisClusterException as exc:
            raise redis.exceptions.ConnectionError(f"Redis Cluster unavailable: {exc}") from exc


async def initialize(client: AnyRedis) -> None:
    """Load a cluster client's slot map now, before requests share it.

    Concurrent first commands on an uninitialised RedisCluster race each other (seen as
    "Connection closed by server"). A cluster that is down now is initialised on first
    use instead.
    """
    if isinstance(client, RedisCluster):
        with contextlib.suppress(*REDIS_OUTAGE_ERRORS):
            await client.initialize()


async def unlink_matching(client: AnyRedis, pattern: str, batch: int = 500) -> None:
    """UNLINK every key matching ``pattern`` (SCAN, never KEYS; every primary of a cluster)."""
    found: list[str] = []
    async for key in client.scan_iter(match=pattern, count=batch):
        found.append(key)
        if len(found) >= batch:
            await client.unlink(*found)
            found.clear()
    if found:
        await client.unlink(*found)


async def run_id_of(client: AnyRedis, key: str) -> str:
    """The run id of the server that holds ``key`` (a new one after a restart or failover)."""
    if isinstance(client, RedisCluster):
        node = client.get_node_from_key(key)
        info = await client.info("server", target_nodes=node)
    else:
        info = await client.info("server")
    return str(info["run_id"])


async def check_memory_policy(client: AnyRedis, *, log: bool = True) -> str | None:
    """Warn when Redis may evict leaderboard indexes; returns the policy (None: unknown).

    Indexes carry no TTL, so a ``volatile-*`` policy (or ``noeviction``) evicts only
    caches and sessions, while an ``allkeys-*`` policy may drop an index under memory
    pressure (it is then rebuilt from Postgres, but reads pay for it).
    """
    try:
        config = await client.config_get("maxmemory*")
    except redis.exceptions.ResponseError as exc:  # CONFIG disabled (managed Redis)
        logger.info("cannot read Redis' maxmemory settings (%s); check them by hand", exc)
        return None
    except REDIS_OUTAGE_ERRORS:
        return None
    policy = str(config.get("maxmemory-policy", ""))
    maxmemory = int(config.get("maxmemory", 0) or 0)
    if not log:
        return policy
    if policy.startswith("allkeys-"):
        logger.warning(
            "Redis maxmemory-policy is %r: under memory pressure Redis may evict leaderboard "
            "indexes, which have no TTL. Use noeviction or a volatile-* policy "
            "(docs/operations.md).",
            policy,
        )
    elif maxmemory == 0:
        logger.info("Redis has no maxmemory limit (policy %s)", policy)
    return policy
