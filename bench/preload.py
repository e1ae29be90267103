"""Preload the boards (bench/load.py) under a progress bar, then check the index of the
smallest board against the service's own ``leaderboard rebuild``."""

from __future__ import annotations

from redis.asyncio import Redis
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from bench import load
from bench.common import Options, console
from bench.package import Keys
from bench.records import LoadTimings, RebuildCheck
from bench.servers import leaderboard_command

SAMPLES = 2000  # sampled players per board: the load tests' ids, Redis and Postgres probes


async def preload(
    opts: Options, redis: Redis, env: dict[str, str]
) -> tuple[list[load.Board], LoadTimings, RebuildCheck]:
    boards = load.make_boards(opts.sizes, Keys(opts.key_prefix), samples=SAMPLES)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(
            f"players (boards {', '.join(b.id for b in boards)})", total=max(opts.sizes)
        )
        timings = await load.preload(
            opts.db_url,
            opts.redis_url,
            redis,
            boards,
            lambda n: bar.advance(task, n),
            scratch_prefix=opts.scratch_prefix,
        )
    console.print(
        f"loaded {timings['rows']:,} score rows in {timings['load_s']:.1f} s, "
        f"VACUUM ANALYZE {timings['vacuum_s']:.1f} s"
    )
    return boards, timings, await check_against_rebuild(redis, env, boards[0])


async def check_against_rebuild(
    redis: Redis, env: dict[str, str], board: load.Board
) -> RebuildCheck:
    """Rebuild ``board``'s index with the service's command; it must come out identical."""
    before = await load.snapshot(redis, board.keys)
    out = leaderboard_command(env, "rebuild", board.id)
    after = await load.snapshot(redis, board.keys)
    same = before == after and len(after[0]) == board.size
    console.print(f"index of {board.id} identical to `leaderboard rebuild`'s: {same}")
    if not same:
        raise SystemExit("error: the preloaded index differs from the service's rebuild")
    return {"board": board.id, "identical": same, "output": out.stdout.strip().splitlines()[-1:]}
