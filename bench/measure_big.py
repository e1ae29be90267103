"""Friends and histogram on the largest board (10 M entries in the full run).

Friends: `GET …/players?ids=<100 ids>`, each query 100 random players of the board (a
file of distinct queries that wrk cycles through; a short warm-up run first fills the
profile cache with their names, as for the rank lookups). Histogram: `GET
…/histogram?buckets=20`. Beside req/s, latency and the server's CPU per request: Redis'
server time of the EVALSHAs the service made during the run (`INFO commandstats`
deltas), per call and per request; and, with the service stopped, `index_read.lua`'s
server time per call for the same reads alone (``alone``).
"""

from __future__ import annotations

import asyncio
import random

from redis.asyncio import Redis

from bench.common import Options, write_lines
from bench.load import Board, player
from bench.measure_redis import CommandStats, other_clients, per_call
from bench.package import index_reader
from bench.records import BigRead, BigReads
from bench.runner import Wrk
from bench.servers import Servers

FRIENDS_IDS = 100  # the most one query may list
FRIENDS_PATHS = {"full": 200, "quick": 100, "smoke": 20}
BUCKETS = 20


def friends_ids(board: Board, queries: int, seed: int = 100) -> list[list[str]]:
    """``queries`` lists of 100 random players of ``board`` (all of them if fewer)."""
    rng = random.Random(seed)
    k = min(FRIENDS_IDS, board.size)
    return [[player(i)[0] for i in rng.sample(range(board.size), k)] for _ in range(queries)]


def evalsha(stats: CommandStats) -> tuple[float, float]:
    s = stats.get("cmdstat_evalsha", {})
    return float(s.get("calls", 0)), float(s.get("usec", 0))


async def timed_run(
    wrk: Wrk, redis: Redis, name: str, url: str, env: dict[str, str], example: str
) -> BigRead:
    calls0, usec0 = evalsha(await redis.info("commandstats"))
    r = wrk(name, url, "get.lua", env)
    calls1, usec1 = evalsha(await redis.info("commandstats"))
    calls, usec = calls1 - calls0, usec1 - usec0
    n = max(r.requests, 1)
    return {
        "name": name,
        "path": example,
        "run": r.as_dict(),
        "evalsha_per_request": calls / n,
        "evalsha_us_per_request": usec / n,
        "evalsha_us_per_call": usec / calls if calls else 0.0,
    }


async def measure(
    wrk: Wrk, opts: Options, servers: Servers, redis: Redis, board: Board
) -> BigReads:
    base = servers.base
    others = await other_clients(redis, opts.redis_db)
    lists = friends_ids(board, FRIENDS_PATHS[opts.mode])
    paths = [f"/v1/leaderboards/{board.id}/players?ids={','.join(ids)}" for ids in lists]
    friends_env = {"BENCH_PATHS": write_lines(f"friends-{board.id}.txt", paths)}
    wrk(
        f"warm-up friends {board.id}",
        base,
        "get.lua",
        friends_env,
        duration=max(opts.min_run_s, opts.duration / 5),
    )
    friends = await timed_run(
        wrk,
        redis,
        f"friends ({len(lists[0])} ids) {board.id}",
        base,
        friends_env,
        f"/v1/leaderboards/{board.id}/players?ids=<{len(lists[0])} ids>",
    )
    hist_path = f"/v1/leaderboards/{board.id}/histogram?buckets={BUCKETS}"
    histogram = await timed_run(
        wrk, redis, f"histogram ({BUCKETS}) {board.id}", base, {"BENCH_PATH": hist_path}, hist_path
    )
    return {
        "board": board.id,
        "size": board.size,
        "friends_ids": len(lists[0]),
        "friends_paths": len(lists),
        "buckets": BUCKETS,
        "friends": friends,
        "histogram": histogram,
        "redis_other_clients": others,
    }


HISTOGRAM_CALLS = 50


async def alone(redis: Redis, opts: Options, board: Board) -> tuple[float, float]:
    """Server µs per call of index_read.lua's "players" (100 ids) and "histogram" reads.

    The same queries as the wrk runs, made with the service's own IndexScripts (its script,
    its arguments) straight to a quiet Redis (service stopped), names left out.
    """
    index, client = index_reader(opts.redis_url)
    lists = friends_ids(board, FRIENDS_PATHS[opts.mode])
    out = []
    try:
        for reads in (
            [index.players(board.keys, "desc", ids) for ids in lists],
            [index.histogram(board.keys, "desc", BUCKETS) for _ in range(HISTOGRAM_CALLS)],
        ):
            before = await redis.info("commandstats")
            await asyncio.gather(*reads)
            out.append(per_call(before, await redis.info("commandstats"), "evalsha"))
    finally:
        await client.aclose()
    return out[0], out[1]
