"""The redis-py asyncio client: one per worker, opened in the app's lifespan.

Protocol: RESP2, pinned on purpose (docs/decisions.md). redis-py 8 defaults to RESP3,
which changes reply shapes (``ZRANGE … WITHSCORES`` pairs, maps for hashes); RESP2 keeps
the shapes Litestar's Redis integrations and our Lua scripts are written against.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import redis.exceptions
from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from leaderboard.lib.redis_packing import packed_by_hiredis
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
    # A slot no node serves in the client's map: a cluster in the middle of a failover.
    redis.exceptions.SlotNotCoveredError,
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
    pool.connection_class = packed_by_hiredis(pool.connection_class)
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes it


def create_subscriber(
    settings: Settings, url: str, *, known_nodes: Sequence[tuple[str, int]] = ()
) -> AnyRedis:
    """A client for long-lived pub/sub connections.

    No command timeout (a subscription is idle between events); a health check every
    5 s and TCP keepalive notice a dead or hung peer instead. On a cluster,
    ``known_nodes`` (see :func:`cluster_nodes`) are asked for the slot map besides the
    URL's node, which may be the master that just died.
    """
    common: dict[str, Any] = {
        "protocol": RESP_PROTOCOL,
        "decode_responses": True,
        "socket_connect_timeout": settings.redis_timeout,
        "health_check_interval": 5,
        "socket_keepalive": True,
    }
    if settings.redis_cluster:
        startup_nodes = [ClusterNode(host, port) for host, port in known_nodes]
        return OutageAwareRedisCluster.from_url(url, startup_nodes=startup_nodes, **common)
    return Redis.from_url(url, **common)


def cluster_nodes(client: AnyRedis) -> list[tuple[str, int]]:
    """The (host, port) of every node a cluster client knows of; empty for a single node."""
    if not isinstance(client, RedisCluster):
        return []
    return [(node.host, int(node.port)) for node in client.get_nodes()]


class OutageAwareRedisCluster(RedisCluster):
    """A RedisCluster that rides out a failover: outages are outages, others' calls go on.

    - "No cluster node answers" is a ConnectionError. redis-py raises a plain
      RedisClusterException when it cannot load the slot map (no startup node reachable,
      slots not covered). It raises the same class for client mistakes (a command its
      cluster pipeline refuses), so the class cannot join REDIS_OUTAGE_ERRORS; loading the
      slot map is where an outage is known for sure, and every command and pipeline goes
      through it while the map is not loaded.
    - ``aclose()`` lets calls in flight finish (see there).
    - A write on a connection closed under the call is a ConnectionError (see
      :class:`_WriteGuard`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The nodes' connection class, guarded; the nodes found later take it from the
        # shared keyword arguments, the startup nodes (made already) are told here.
        guarded = packed_by_hiredis(_write_guarded(self.connection_kwargs["connection_class"]))
        self.connection_kwargs["connection_class"] = guarded
        for node in self.nodes_manager.startup_nodes.values():
            node.connection_class = guarded

    async def initialize(self, *args: Any, **kwargs: Any) -> RedisCluster:
        try:
            return await super().initialize(*args, **kwargs)
        except redis.exceptions.RedisClusterException as exc:
            raise redis.exceptions.ConnectionError(f"Redis Cluster unavailable: {exc}") from exc

    async def aclose(self) -> None:
        """Disconnect the idle connections now and the others when their call is done.

        redis-py calls ``aclose()`` itself to start afresh after a cluster error
        (CLUSTERDOWN or a slot not covered during a failover, a pipeline's retry, every
        ``reinitialize_steps``-th MOVED). Its own version disconnects every connection at
        once, also those that other requests are writing to or reading from at that
        moment: a call about to write fails with ``AttributeError: 'NoneType' object has
        no attribute 'writelines'`` (a 500, not the 503 of an outage), and a call that had
        sent its command is retried and runs twice (an INCR counts twice). Here the
        connections in use are only marked, and redis-py disconnects each when its call
        is done (as it does itself when its slot map changes); the idle ones are taken off
        the free list while they are disconnected, so that no call takes one meanwhile,
        and put back (they reconnect on their next use). The next call loads the slot map
        again. :func:`close_redis` closes a client for good, in use or not.
        """
        self._initialize = True
        for node in self._all_nodes():
            node.update_active_connections_for_reconnect()
            idle = list(node._free)
            node._free.clear()
            await asyncio.gather(
                *(connection.disconnect() for connection in idle), return_exceptions=True
            )
            node._free.extend(idle)

    async def close_now(self) -> None:
        """Disconnect every connection at once, in use or not (the client's end)."""
        self._initialize = True
        await asyncio.gather(*(node.disconnect() for node in self._all_nodes()))

    def _all_nodes(self) -> list[ClusterNode]:
        # The two maps may hold distinct objects of one name, each with its connections.
        manager = self.nodes_manager
        nodes = [*manager.startup_nodes.values(), *manager.nodes_cache.values()]
        return list({id(node): node for node in nodes}.values())


class _WriteGuard(Connection):
    """A write on a connection closed under the call raises ConnectionError.

    After a connection error on a node, redis-py's cluster client disconnects that node's
    idle connections while other calls may be taking one of them; the taker then writes
    to a socket that was set to None (``AttributeError: 'NoneType' object has no
    attribute 'writelines'``), and on Python 3.12+ a socket the peer reset fails the same
    way (redis-py issue 4287). Neither is an error redis-py retries or we count as an
    outage, so the call would end in a 500 instead of a retry or a 503. Packing happens
    before this method, so a bad argument never reaches it.
    """

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        try:
            await super().send_packed_command(command, check_health)
        except (AttributeError, TypeError) as exc:  # redis-py disconnected it already
            raise redis.exceptions.ConnectionError(
                f"the connection was closed while writing to it ({exc})"
            ) from exc


def _write_guarded(base: type[Connection]) -> type[Connection]:
    """``base`` (a plain or TLS connection class) with :class:`_WriteGuard`'s write."""
    if issubclass(base, _WriteGuard):
        return base
    if base is Connection:
        return _WriteGuard
    return type(f"WriteGuarded{base.__name__}", (_WriteGuard, base), {})


async def close_redis(client: AnyRedis) -> None:
    """Close a client for good: every connection now (``aclose`` waits for calls in use)."""
    if isinstance(client, OutageAwareRedisCluster):
        await client.close_now()
    else:
        await client.aclose()


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
