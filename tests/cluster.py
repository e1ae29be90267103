"""A local 3-master Redis Cluster (the embedded Valkey binary) for cluster-mode tests."""

from __future__ import annotations

import functools
import random
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from leaderboard.embedded.process import ChildServer
from leaderboard.embedded.valkey import _binary

SLOT_RANGES = [(0, 5460), (5461, 10922), (10923, 16383)]

# Service bugs that only the cluster variants show. Their tests carry
# ``pytest.mark.cluster_xfail(reason=…)`` (a strict xfail): once a bug is fixed, its tests
# XPASS, which fails the run until the mark goes.

# ProfileCache.fill_many (leaderboard/players/cache.py) queues its fill script on
# ``redis.pipeline()``; redis-py's cluster pipeline refuses EVALSHA with a
# RedisClusterException. Every profile miss that reaches fill_many is then a 500 on a
# cluster: a lookup of an unknown player, and the names of players whose profiles are not
# cached on entry, top and around pages.
PIPELINED_PROFILE_FILL = "cluster bug: ProfileCache.fill_many pipelines EVALSHA (tests/cluster.py)"

# create_redis (leaderboard/redis_client.py) leaves RedisCluster its default pool of 100
# connections per node, which raises MaxConnectionsError at once when they are all busy,
# where the single-node BlockingConnectionPool waits up to the Redis timeout (and
# LEADERBOARD_REDIS_MAX_CONNECTIONS is ignored): with 600 submissions in flight on one
# worker, many get 503 "the score was recorded, but its rank cannot be read now".
CLUSTER_POOL_DOES_NOT_WAIT = "cluster bug: RedisCluster's pool does not wait (tests/cluster.py)"

# A cluster that no node of can be reached raises RedisClusterException ("Redis Cluster
# cannot be connected"), which REDIS_OUTAGE_ERRORS (leaderboard/redis_client.py) does not
# list: callers see no outage (no ConnectionError, no fallback to Postgres, no 503), and
# initialize() lets it through, so the app does not even start while the cluster is down.
UNREACHABLE_CLUSTER_IS_NO_OUTAGE = (
    "cluster bug: an unreachable cluster is no outage error (tests/cluster.py)"
)


@contextmanager
def local_cluster(directory: Path) -> Iterator[str]:
    """Three masters on loopback ports, all slots assigned; yields a node's URL."""
    directory.mkdir(parents=True, exist_ok=True)
    servers: list[ChildServer] = []
    ports: list[int] = []
    try:
        for i in range(len(SLOT_RANGES)):
            port = _free_port_pair()
            node_dir = directory / f"node{i}"
            node_dir.mkdir()
            config = node_dir / "valkey.conf"
            config.write_text(
                "\n".join(
                    [
                        f"port {port}",
                        "bind 127.0.0.1",
                        "cluster-enabled yes",
                        f'cluster-config-file "{node_dir}/nodes.conf"',
                        f'dir "{node_dir}"',
                        'save ""',
                        "appendonly no",
                        "daemonize no",
                    ]
                )
                + "\n"
            )
            server = ChildServer(f"cluster node {i}", signal.SIGTERM, node_dir / "log")
            started = server.start_and_wait(
                [str(_binary()), str(config)], functools.partial(_pong, port), 20, cwd=node_dir
            )
            assert started, f"cluster node {i} could not bind a port"
            servers.append(server)
            ports.append(port)
        clients = [redis.Redis(port=port) for port in ports]
        for client, (first, last) in zip(clients, SLOT_RANGES, strict=True):
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)  # type: ignore[no-untyped-call]
        for port in ports[1:]:
            clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", port)  # type: ignore[no-untyped-call]
        deadline = time.monotonic() + 30
        while not all(
            b"cluster_state:ok" in client.execute_command("CLUSTER", "INFO")  # type: ignore[no-untyped-call]
            for client in clients
        ):
            assert time.monotonic() < deadline, "the cluster did not become ready"
            time.sleep(0.1)
        for client in clients:
            client.close()
        yield f"redis://127.0.0.1:{ports[0]}/0"
    finally:
        for server in servers:
            server.stop()


def _free_port_pair() -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        if _is_free(port) and _is_free(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _pong(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False
