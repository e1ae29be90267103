"""One hot board: many distinct players submitting to one board at once.

A fresh board (created through the API, rate limit 10,000 per player per second) and a
server key for it, as a game server would hold. Then wrk with 256 connections posts one
score for each of N players (the players 0 … N-1, in a random order, random scores), each
exactly once, and stops at the last answer (bench/lua/hot.lua): so N new entries arrive as
fast as the service takes them, 256 in flight at any time. Measured: the submissions'
latency, the service's CPU per submission (psutil), Redis' CPU during the burst (`INFO
cpu`, used_cpu_user + used_cpu_sys of the whole redis-server, which nothing else uses
during the benchmark), the accepted count from /metrics of every worker, and the
board's size afterwards.
"""

from __future__ import annotations

import json
import random
import time

import httpx
from redis.asyncio import Redis

from bench.common import Options, console
from bench.load import PERIOD_KEY, player
from bench.measure_http import Wrk, write_paths
from bench.measure_redis import other_clients
from bench.package import Keys
from bench.records import HotBoard
from bench.servers import Servers
from bench.worker_metrics import delta, scrape

BOARD = "bench-hot"
CONNECTIONS = 256
PLAYERS = {"full": 10_000, "quick": 10_000, "smoke": 1_000}
CAP_S = {"full": 120.0, "quick": 60.0, "smoke": 15.0}  # wrk's -d: the burst ends long before


def setup_board(base: str, admin_token: str) -> str:
    """Create the board and a server key that may submit to it; the key."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=base, headers=admin, timeout=30) as client:
        r = client.post(
            "/v1/leaderboards",
            json={
                "id": BOARD,
                "reset": "never",
                "rate_limit": {"limit": 10_000, "window_seconds": 1},
            },
        )
        r.raise_for_status()
        r = client.post(
            "/v1/server-keys", json={"name": "bench hot board", "leaderboards": [BOARD]}
        )
        r.raise_for_status()
        key = str(r.json()["key"])
        # The first read builds the (empty) index, so the burst measures submissions only.
        client.get(f"/v1/leaderboards/{BOARD}/top", params={"limit": 1}).raise_for_status()
    return key


async def cpu_seconds(redis: Redis) -> float:
    info = await redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def measure(
    wrk: Wrk, opts: Options, servers: Servers, redis: Redis, admin_token: str
) -> HotBoard:
    n = min(PLAYERS[opts.mode], max(opts.sizes))  # players 0 … max size - 1 exist
    key = setup_board(servers.base, admin_token)
    rng = random.Random(10_000)
    order = rng.sample(range(n), n)
    bodies = write_paths(
        "hot-bodies.txt",
        [
            json.dumps({"score": rng.randrange(1_000_000_000), "player_id": player(i)[0]})
            for i in order
        ],
    )
    pids = servers.worker_pids()
    others = await other_clients(redis, opts.redis_db)
    before = scrape(servers.base, pids)
    redis_before = await cpu_seconds(redis)
    t0 = time.monotonic()
    run = wrk(
        f"hot board: {n:,} players at once (c{CONNECTIONS})",
        servers.base,
        "hot.lua",
        {"BENCH_BODIES": bodies, "BENCH_BOARD": BOARD, "BENCH_TOKEN": key},
        connections=CONNECTIONS,
        duration=CAP_S[opts.mode],
    )
    wall = time.monotonic() - t0
    redis_cpu = await cpu_seconds(redis) - redis_before
    accepted, workers = delta(
        before,
        scrape(servers.base, pids),
        "leaderboard_submissions_total",
        outcome="accepted",
    )
    entries = int(await redis.zcard(Keys(opts.key_prefix).index(BOARD, PERIOD_KEY).scores))
    console.print(
        f"  hot board: {entries:,} entries after, {accepted:,.0f} accepted "
        f"({workers} of {len(pids)} workers' counters); Redis CPU {redis_cpu * 1e3:,.0f} ms "
        f"in {wall:.2f} s ({redis_cpu / n * 1e6:,.1f} µs per submission)"
    )
    return {
        "board": BOARD,
        "players": n,
        "connections": CONNECTIONS,
        "credential": "a server key for this board",
        "run": run.as_dict(),
        "accepted": accepted,
        "accepted_workers": workers,
        "entries_after": entries,
        "wall_s": wall,
        "redis_cpu_s": redis_cpu,
        "redis_cpu_us_per_submission": redis_cpu / n * 1e6,
        "redis_cores": redis_cpu / wall if wall else 0.0,
        "redis_other_clients": others,
    }
