"""One hot board: many distinct signed-in players submitting to one board at once.

A fresh board (created through the API, rate limit 10,000 per player per second). Then wrk
with 256 connections posts one score for each of N signed-in players (bench/players.py),
each with the player's own session token, in a random order, random scores, each exactly
once, and stops at the last answer (bench/lua/once.lua): so N new entries arrive as fast
as the service takes them, 256 in flight at any time. Measured: the submissions' latency,
the service's, Postgres' and Redis' CPU per submission (bench/store_cpu.py), Redis' CPU
during the burst from `INFO cpu` as well (used_cpu_user + used_cpu_sys of the whole
redis-server), the accepted count from the service's /metrics, and the board's size
afterwards.
"""

from __future__ import annotations

import random
import time

import httpx
from redis.asyncio import Redis

from bench.common import Mode, Options, console, write_lines
from bench.load import PERIOD_KEY
from bench.measure_redis import other_clients
from bench.package import Keys
from bench.players import SignedIn, board_body
from bench.records import HotBoard
from bench.runner import Wrk
from bench.servers import Servers
from bench.worker_metrics import delta, scrape

BOARD = "bench-hot"
CONNECTIONS = 256
# Each is a device signed in before the loads (bench/players.py), which takes a while.
PLAYERS = {"full": 10_000, "quick": 2_000, "smoke": 200}
CAP_S = {"full": 120.0, "quick": 60.0, "smoke": 15.0}  # wrk's -d: the burst ends long before


def setup_board(base: str, admin_token: str) -> None:
    """Create the board."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=base, headers=admin, timeout=30) as client:
        client.post("/v1/leaderboards", json=board_body(BOARD)).raise_for_status()
        # The first read builds the (empty) index, so the burst measures submissions only.
        client.get(f"/v1/leaderboards/{BOARD}/top", params={"limit": 1}).raise_for_status()


async def cpu_seconds(redis: Redis) -> float:
    info = await redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def players(mode: Mode) -> int:
    """How many signed-in players the hot board needs (bench/__main__.py signs them in)."""
    return PLAYERS[mode]


async def measure(
    wrk: Wrk, opts: Options, servers: Servers, redis: Redis, admin_token: str, signed: SignedIn
) -> HotBoard:
    n = min(PLAYERS[opts.mode], len(signed.tokens))
    setup_board(servers.base, admin_token)
    rng = random.Random(10_000)
    order = rng.sample(range(n), n)
    bodies = write_lines(
        "hot-bodies.txt",
        [f'{signed.tokens[i]} {{"score":{rng.randrange(1_000_000_000)}}}' for i in order],
    )
    others = await other_clients(redis, opts.redis_db)
    before = scrape(servers.base)
    redis_before = await cpu_seconds(redis)
    t0 = time.monotonic()
    run = wrk(
        f"hot board: {n:,} players at once (c{CONNECTIONS})",
        servers.base,
        "once.lua",
        {"BENCH_BODIES": bodies, "BENCH_PATH": f"/v1/leaderboards/{BOARD}/scores"},
        connections=CONNECTIONS,
        duration=CAP_S[opts.mode],
    )
    wall = time.monotonic() - t0
    redis_cpu = await cpu_seconds(redis) - redis_before
    accepted = delta(
        before, scrape(servers.base), "leaderboard_submissions_total", outcome="accepted"
    )
    entries = int(await redis.zcard(Keys(opts.key_prefix).index(BOARD, PERIOD_KEY).scores))
    console.print(
        f"  hot board: {entries:,} entries after, {accepted:,.0f} accepted; "
        f"Redis CPU {redis_cpu * 1e3:,.0f} ms "
        f"in {wall:.2f} s ({redis_cpu / n * 1e6:,.1f} µs per submission)"
    )
    return {
        "board": BOARD,
        "players": n,
        "connections": CONNECTIONS,
        "credential": "the player's own session token (`POST /v1/auth/device`)",
        "run": run.as_dict(),
        "accepted": accepted,
        "entries_after": entries,
        "wall_s": wall,
        "redis_cpu_s": redis_cpu,
        "redis_cpu_us_per_submission": redis_cpu / n * 1e6,
        "redis_cores": redis_cpu / wall if wall else 0.0,
        "redis_other_clients": others,
    }
