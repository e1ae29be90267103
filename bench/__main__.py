"""The leaderboard benchmark, end to end: `bash bench/run.sh [--quick|--smoke]`.

docs/benchmarks.md describes what it measures and shows the last full run.

1. create the database `leaderboard_bench`, migrate it, preload the boards (COPY +
   pipelined Redis writes, Redis db 15 under the key prefix `lbbench:`), check one board
   against the service's own `leaderboard rebuild` (stores.py, preload.py, load.py);
2. start the service (`leaderboard serve --workers N`) and the bare Litestar app
   (servers.py), and the meter of Postgres' and Redis' CPU (store_cpu.py); sign in
   thousands of devices and make the signed-in players' boards (players.py);
3. wrk: /hello, rank lookups at every board size, around, top-100, score submission as
   the admin; as signed-in players (random and rising scores) and sign-ins of known
   devices (measure_players.py); signed-in submissions paced at half their peak rate and
   once under py-spy (measure_http.py, profile.py); the mixed load: reads and signed-in
   submissions on one board at once (measure_mixed.py); one hot board: thousands of
   signed-in players submitting at once (measure_hot.py); friends and histogram on the
   largest board (measure_big.py); the fan-out: 1,000 WebSocket subscribers and paced
   submissions, then the ceiling (measure_fanout.py);
4. Redis ZRANK / index_read.lua server time and memory per entry, Postgres-only ranks
   (measure_redis.py, measure_big.py, measure_postgres.py);
5. write the report (+ plot), then stop everything, unlink the keys, drop the database
   (report.py).

`--smoke` runs every step on tiny boards with 1 s wrk runs, 200 signed-in players, 20
WebSocket subscribers and no profile, writes bench/results/smoke.md, and exits non-zero if
a step fails, any wrk run saw socket errors or non-2xx answers, or the fan-out lost,
doubled or refused anything: `uv run python -m bench --smoke` (CI; about a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
from pathlib import Path

from bench import (
    facts,
    measure_big,
    measure_fanout,
    measure_hot,
    measure_mixed,
    measure_postgres,
    measure_redis,
    players,
    preload,
    settle,
)
from bench.common import RESULTS, ROOT, Mode, Options, console, step
from bench.measure_http import load_tests
from bench.records import ProfilePart, Results
from bench.records_players import Fanout
from bench.report import default_paths, write_report
from bench.runner import Wrk, failed_runs
from bench.servers import Servers, service_env
from bench.store_cpu import StoreMeter
from bench.stores import Stores

SIZES: dict[Mode, list[int]] = {
    "full": [10_000, 1_000_000, 10_000_000],
    "quick": [10_000, 100_000],
    "smoke": [1_000, 2_000],
}
DURATION: dict[Mode, float] = {"full": 10.0, "quick": 3.0, "smoke": 1.0}
PLAYERS: dict[Mode, int] = {"full": 2_000, "quick": 2_000, "smoke": 200}


def parse_args(argv: list[str] | None = None) -> Options:
    p = argparse.ArgumentParser(prog="bench", description=(__doc__ or "").splitlines()[0])
    modes = p.add_mutually_exclusive_group()
    modes.add_argument(
        "--quick",
        action="store_true",
        help="shorter run: boards of 10k and 100k, 3 s per wrk run; report goes to "
        "bench/results/quick.md instead of docs/benchmarks.md",
    )
    modes.add_argument(
        "--smoke",
        action="store_true",
        help="check that every step works (CI): boards of 1k and 2k, 1 s per wrk run, no "
        "profile; report goes to bench/results/smoke.md; exits 1 if a wrk run saw errors",
    )
    p.add_argument("--sizes", help="board sizes, comma-separated (default 10000,1000000,10000000)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--duration", type=float, help="seconds per wrk run (default 10; quick 3)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--db-name", default="leaderboard_bench")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    p.add_argument("--key-prefix", default="lbbench:")
    p.add_argument("--report", help="where to write the Markdown report")
    p.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    a = p.parse_args(argv)
    mode: Mode = "smoke" if a.smoke else "quick" if a.quick else "full"
    sizes = [int(s.replace("_", "")) for s in a.sizes.split(",")] if a.sizes else SIZES[mode]
    if a.report:
        report = Path(a.report)
        plot = report.with_suffix(".png")
    else:
        report, plot = default_paths(mode)
    return Options(
        mode=mode,
        sizes=sizes,
        workers=a.workers,
        duration=a.duration or DURATION[mode],
        connections=a.connections,
        pg_url=a.pg_url,
        db_name=a.db_name,
        redis_url=a.redis_url,
        key_prefix=a.key_prefix,
        report=report,
        plot=plot,
        no_profile=a.no_profile or mode == "smoke",
        command=" ".join(["bash bench/run.sh", *sys.argv[1:]]),
        min_run_s=1.0 if mode == "smoke" else 2.0,
        pg_budget_s=8.0 if mode == "full" else 3.0,
    )


async def run(opts: Options) -> int:
    """Run every step in order; the exit status (smoke: 1 when a wrk run saw errors)."""
    t0 = time.monotonic()
    token = secrets.token_urlsafe(24)
    env = service_env(opts, token)
    stores = Stores(opts, env)
    servers = Servers(env, opts.workers)
    meter = StoreMeter(opts.db_url, opts.db_name, opts.redis_url, opts.redis_db)
    wrk = Wrk(opts, servers, meter)
    try:
        step("setup: database, migrations, Redis db 15 / prefix " + opts.key_prefix)
        keys_before = await stores.setup()
        machine = await facts.gather(opts.db_url, stores.redis)
        step(f"preload boards of {', '.join(f'{s:,}' for s in opts.sizes)} players")
        boards, timings, rebuild_check = await preload.preload(opts, stores.redis, env)
        step(f"start the service and the bare app ({opts.workers} uvicorn workers each)")
        servers.start()
        meter.start()
        n_players = PLAYERS[opts.mode]
        devices = max(n_players, measure_hot.players(opts.mode))
        step(f"sign in {devices:,} devices; {n_players:,} of them on two boards")
        signed = players.sign_in(wrk, servers.base, devices, n_players)
        players.make_boards(wrk, servers.base, token, signed)
        rising = players.RisingScores()
        step(f"wrk -t1 -c{opts.connections} -d{opts.duration:g}s --latency")
        http = load_tests(wrk, opts, servers, boards, token, signed, rising)
        big = boards[-1]
        step("mixed load: reads (c48) and signed-in submissions (c16) on one board at once")
        mixed = measure_mixed.measure(wrk, servers.base, signed, rising)
        step("one hot board: distinct signed-in players submitting at once")
        hot = await measure_hot.measure(wrk, opts, servers, stores.redis, token, signed)
        step(f"friends (100 ids) and histogram on {big.id}")
        big_reads = await measure_big.measure(wrk, opts, servers, stores.redis, big)
        settled = None
        if opts.mode != "smoke":  # the smoke run checks that it works, not its tails
            step("let Postgres finish what the loads left (checkpoint, autovacuum)")
            settled = await settle.settle(opts.db_url)
        step(f"fan-out: {measure_fanout.SUBSCRIBERS[opts.mode]:,} WebSocket subscribers")
        fanout = measure_fanout.measure(opts.mode, servers, meter, token, signed)
        if settled is not None:
            fanout["settled"] = settled
        load_end = [round(x, 2) for x in os.getloadavg()]
        meter.stop()
        servers.stop()  # Redis/Postgres measurements run on a quiet machine
        step("Redis alone: ZRANK and index_read.lua server time, memory per entry")
        redis = await measure_redis.measure(stores.redis, opts, boards)
        players_us, histogram_us = await measure_big.alone(stores.redis, opts, big)
        big_reads["players_read_us"] = players_us
        big_reads["histogram_read_us"] = histogram_us
        step("Postgres alone: rank by count(*) over an index on (board, period, score desc)")
        postgres = await measure_postgres.measure(opts, boards)
    finally:
        step("cleanup")
        meter.stop()
        servers.stop()
        await stores.teardown()
    profile: ProfilePart = {"profile": http.profile} if http.profile else {}
    res: Results = {
        "mode": opts.mode,
        "sizes": opts.sizes,
        "workers": opts.workers,
        "duration_s": opts.duration,
        "connections": opts.connections,
        "command": opts.command,
        "redis_db_keys_before": keys_before,
        "facts": machine,
        "load": timings,
        "rebuild_check": rebuild_check,
        "rank_by_size": http.rank_by_size,
        **profile,
        "runs": http.runs,
        "redis": redis,
        "postgres": postgres,
        "elapsed_s": time.monotonic() - t0,
        "mixed": mixed,
        "hot_board": hot,
        "big_reads": big_reads,
        "players": http.players,
        "fanout": fanout,
        "load_average_end": load_end,
    }
    (RESULTS / f"{opts.mode}.json").write_text(json.dumps(res, indent=2))
    drawn = write_report(res, opts.report, opts.plot, ROOT)
    console.print(
        f"[bold green]done[/] in {res['elapsed_s'] / 60:.1f} min: {_shown(opts.report)}"
        + (f", {_shown(opts.plot)}" if drawn else " (no plot: matplotlib missing)")
    )
    return smoke_verdict(wrk, fanout) if opts.mode == "smoke" else 0


def _shown(path: Path) -> str:
    """A path as the reader typed it: relative to the repository when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def smoke_verdict(wrk: Wrk, fanout: Fanout) -> int:
    """1 when a wrk run saw errors or the fan-out lost, doubled or refused anything."""
    failed = failed_runs(wrk.history)
    for r in failed:
        console.print(
            f"[bold red]✗[/] {r.name}: {r.errors - r.non_2xx} socket errors, "
            f"{r.non_2xx} non-2xx answers out of {r.requests:,} requests"
        )
    steps = [fanout["base"], *fanout["ceiling"]]
    lossy = [
        s
        for s in steps
        if s["submit_errors"] or s["missing"] or s["duplicates"] or s["unexpected"] or s["closed"]
    ]
    for s in lossy:
        console.print(
            f"[bold red]✗[/] fan-out at {s['target_rate']:g}/s: {s['submit_errors']} failed "
            f"submissions, {s['missing']} missing, {s['duplicates']} duplicate and "
            f"{s['unexpected']} unexpected events, {s['closed']} subscribers closed"
        )
    if failed or lossy:
        console.print(
            f"[bold red]smoke failed[/]: {len(failed)} of {len(wrk.history)} wrk runs, "
            f"{len(lossy)} of {len(steps)} fan-out steps"
        )
        return 1
    console.print(
        f"[bold green]smoke passed[/]: {len(wrk.history)} wrk runs and {len(steps)} fan-out "
        "steps, no errors"
    )
    return 0


def main() -> None:
    sys.exit(asyncio.run(run(parse_args())))


if __name__ == "__main__":
    main()
