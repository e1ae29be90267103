"""Redis alone: ZRANK and index_read.lua server time per call, memory per index entry.

Server times come from ``INFO commandstats`` deltas (calls and µs of ``zrank`` and
``evalsha``) while only the benchmark talks to the server.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from redis.asyncio import Redis

from bench.common import Options, console
from bench.load import Board
from bench.package import IndexScripts, index_reader, member_of
from bench.records import Memory, RedisRecord

# INFO commandstats: cmdstat_<name> → {calls, usec, usec_per_call, ...}
CommandStats = dict[str, dict[str, float]]


def per_call(before: CommandStats, after: CommandStats, cmd: str) -> float:
    """Server µs per call of ``cmd`` between two ``INFO commandstats``."""
    k = f"cmdstat_{cmd}"
    calls = int(after.get(k, {}).get("calls", 0) - before.get(k, {}).get("calls", 0))
    usec = int(after.get(k, {}).get("usec", 0) - before.get(k, {}).get("usec", 0))
    if not calls:
        raise RuntimeError(f"Redis counted no {cmd} calls: no server time to report")
    return usec / calls


async def other_clients(redis: Redis, own_db: int) -> int:
    """Clients of this Redis on other dbs than the benchmark's: their work would show in
    server-wide figures (INFO cpu, INFO commandstats)."""
    return sum(1 for c in await redis.client_list() if int(c.get("db", own_db)) != own_db)


async def members_of(redis: Redis, board: Board) -> list[str]:
    """The sorted-set members of the board's sampled players (as the scripts derive them).

    The members hash holds each player's sequence, not the member itself: a ZRANK of the
    hash value would time a miss, not a rank lookup.
    """
    values = await redis.hmget(board.keys.members, board.sample_ids)
    if any(v is None for v in values):
        raise RuntimeError(f"{board.id}: sampled players missing from the members hash")
    return [member_of(pid, str(v)) for pid, v in zip(board.sample_ids, values, strict=True)]


async def measure(redis: Redis, opts: Options, boards: list[Board]) -> list[RedisRecord]:
    index, client = index_reader(opts.redis_url)
    try:
        return [await measure_board(redis, index, opts, b) for b in boards]
    finally:
        await client.aclose()


async def measure_board(redis: Redis, index: IndexScripts, opts: Options, b: Board) -> RedisRecord:
    members = await members_of(redis, b)
    stats0 = await redis.info("commandstats")
    pipe = redis.pipeline(transaction=False)
    for m in members:
        pipe.zrank(b.keys.scores, m)
    await pipe.execute()
    # The service's own call (IndexScripts.around, radius 0: the entry alone), as many at
    # once as the sample: its script pipeline sends them together.
    await asyncio.gather(*(index.around(b.keys, "desc", pid, 0) for pid in b.sample_ids))
    stats1 = await redis.info("commandstats")
    rtt = []
    for m in members[:500]:
        t = time.perf_counter()
        await redis.zrank(b.keys.scores, m)
        rtt.append((time.perf_counter() - t) * 1e6)
    mem = await memory(redis, opts, b)
    rec: RedisRecord = {
        "size": b.size,
        "board": b.id,
        "zrank_server_us": per_call(stats0, stats1, "zrank"),
        "index_read_server_us": per_call(stats0, stats1, "evalsha"),
        "zrank_roundtrip_us": statistics.median(rtt),
        **mem,
    }
    console.print(
        f"  {b.id}: ZRANK {rec['zrank_server_us']:.2f} µs server, "
        f"{rec['zrank_roundtrip_us']:.0f} µs round trip; "
        f"{mem['bytes_per_entry']:.0f} B/entry vs bare "
        f"{mem['bare_bytes_per_entry']:.0f} B"
    )
    return rec


async def memory(redis: Redis, opts: Options, b: Board) -> Memory:
    """MEMORY USAGE of the index keys against the bare sorted set of the same entries."""
    samples = 0 if b.size <= 1_000_000 else 10_000  # members have one fixed length
    sizes = []
    for key in (b.keys.scores, b.keys.members, f"{opts.scratch_prefix}{b.id}"):
        used = await redis.memory_usage(key, samples=samples)
        if used is None:
            raise RuntimeError(f"{key} does not exist")
        sizes.append(used)
    z, m, bare = sizes
    # The index's other keys: its distinct scores (dense ranks) and its bucket digests.
    other = 0
    for key in (b.keys.distinct, b.keys.digest):
        other += await redis.memory_usage(key, samples=samples) or 0
    n = b.size
    return {
        "zset_bytes": z,
        "hash_bytes": m,
        "other_bytes": other,
        "bare_zset_bytes": bare,
        "bytes_per_entry": (z + m + other) / n,
        "zset_per_entry": z / n,
        "hash_per_entry": m / n,
        "other_per_entry": other / n,
        "bare_bytes_per_entry": bare / n,
        "ratio_to_bare": (z + m + other) / bare,
        "memory_samples": samples,
    }
