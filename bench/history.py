"""History: how fast a player's history of 100 ended periods answers on big periods.

`uv run python -m bench.history [--periods 100] [--entries 1000000] [--duration 10]`

1. the database `leaderboard_bench_history` (dropped at the end), Redis db 15 under the
   prefix `lbbench-history:` (unlinked at the end); `leaderboard serve --workers 2`;
2. a daily `best` board made through the API; its `--periods` days before today, each
   with `--entries` entries and frozen as retention freezes an ended period (its
   `period_results` rows and its `period_closes` row), written straight into Postgres
   (`INSERT … SELECT generate_series`, two connections at a time, triggers off: the
   digests are for live indexes, and these periods have none). Every player is in every
   period, so each history has `--periods` periods; ranks differ from period to period;
3. wrk reads `GET …/players/{id}/history?limit=100` for 1,000 players picked at random,
   on one connection (the latency a player sees) and on 16 (what two workers serve).

Writes bench/results/history.json and the "History" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench import ledger
from bench.common import console, run_section, step, write_lines
from bench.report_history import write_section
from bench.runner import Wrk
from bench.store_cpu import StoreMeter
from bench.stores import side_service

BOARD = "history"
SAMPLE = 1_000  # players whose histories wrk reads
STEP = 7_919  # a prime: (i * STEP + period * SHIFT) mod entries is a new order each period
SHIFT = 104_729


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench.history", description=(__doc__ or "").splitlines()[0])
    p.add_argument("--periods", type=int, default=100)
    p.add_argument("--entries", type=int, default=1_000_000, help="entries per period")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    p.add_argument("--no-report", action="store_true", help="leave docs/benchmarks.md as it is")
    args = p.parse_args()
    if args.entries % STEP == 0:
        p.error(f"--entries: not a multiple of {STEP} (ranks would repeat)")
    return args


def player_id(i: int) -> str:
    """The i-th player's id (1-based), as the SQL below makes it."""
    return f"00000000-0000-4000-8000-{i:012x}"


_PLAYER_SQL = "('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid"
# rank r = 1 + (i * STEP + d * SHIFT) mod E: a permutation of 1 … E in each period; the
# score follows the rank (all distinct, so the three rank styles agree).
_RANK_SQL = "(1 + ((i::bigint * $2 + $3::bigint * $4) % $1))"

_PLAYERS = f"""
    INSERT INTO players (id, device_hash, display_name)
    SELECT {_PLAYER_SQL}, sha256(i::text::bytea), 'p' || i FROM generate_series(1, $1) AS i
"""
_SCORES = f"""
    INSERT INTO scores (leaderboard_id, span, period_start, player_id, score, reached_seq,
                        reached_at, unledgered)
    SELECT $5, 0, $6::date, {_PLAYER_SQL}, ($1 - {_RANK_SQL} + 1) * 10,
           $3::bigint * $1 + i, $7, ($1 - {_RANK_SQL} + 1) * 10
      FROM generate_series(1, $1) AS i
"""
_RESULTS = f"""
    INSERT INTO period_results (leaderboard_id, span, player_id, period_start, score, rank,
                                competition_rank, dense_rank, total)
    SELECT $5, 'daily', {_PLAYER_SQL}, $6::date, ($1 - {_RANK_SQL} + 1) * 10,
           {_RANK_SQL}, {_RANK_SQL}, {_RANK_SQL}, $1
      FROM generate_series(1, $1) AS i
"""


async def load(db_url: str, periods: int, entries: int, today: date) -> float:
    """The board's ended periods, frozen; seconds it took."""
    started = time.perf_counter()
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("SET session_replication_role = replica")  # no triggers, no FKs
        await conn.execute(_PLAYERS, entries)
    finally:
        await conn.close()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for d in range(1, periods + 1):
        queue.put_nowait(d)

    async def worker() -> None:
        conn = await asyncpg.connect(db_url)
        try:
            await conn.execute("SET session_replication_role = replica")
            while not queue.empty():
                d = queue.get_nowait()
                day = today - timedelta(days=d)
                at = datetime.combine(day, datetime.min.time(), UTC)
                args = (entries, STEP, d, SHIFT, BOARD, day)
                async with conn.transaction():
                    await conn.execute(_SCORES, *args, at)
                    await conn.execute(_RESULTS, *args)
                    await conn.execute(
                        "INSERT INTO period_closes (leaderboard_id, span, period_start, entries)"
                        " VALUES ($1, 'daily', $2, $3)",
                        BOARD,
                        day,
                        entries,
                    )
                done = periods - queue.qsize()
                if done % 10 == 0:
                    console.print(
                        f"  {done}/{periods} periods ({time.perf_counter() - started:.0f} s)"
                    )
        finally:
            await conn.close()

    await asyncio.gather(worker(), worker())
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("ANALYZE scores")
        await conn.execute("ANALYZE period_results")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def check_one(base: str, player: str, periods: int) -> None:
    """One history as a client reads it: every period, ranked, before anything is timed."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        answer = await http.get(
            f"/v1/leaderboards/{BOARD}/players/{player}/history", params={"limit": 100}
        )
        answer.raise_for_status()
        body = answer.json()
    if len(body["periods"]) != min(periods, 100) or body["best"] is None:
        raise SystemExit(f"history of {player}: {len(body['periods'])} periods, {body['best']}")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    opts = replace(
        ledger.options(args),
        db_name="leaderboard_bench_history",
        key_prefix="lbbench-history:",
        command="uv run python -m bench.history",
    )
    results: dict[str, Any] = {
        "command": opts.command,
        "periods": args.periods,
        "entries": args.entries,
        "duration_s": args.duration,
        "load_average": [os.getloadavg()[0]],
    }
    step("serve --workers 2; the daily board")
    async with side_service(opts) as (token, servers):
        admin = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=servers.base, headers=admin, timeout=30) as api:
            board = {"id": BOARD, "reset": "daily", "order": "desc"}
            (await api.post("/v1/leaderboards", json=board)).raise_for_status()
        step(f"{args.periods} ended periods of {args.entries:,} entries each, frozen")
        today = datetime.now(UTC).date()
        results["load_s"] = await load(opts.db_url, args.periods, args.entries, today)
        results["rows"] = args.periods * args.entries
        console.print(f"  {results['rows']:,} rows per table in {results['load_s']:.0f} s")
        sample = random.Random(7).sample(range(1, args.entries + 1), SAMPLE)
        await check_one(servers.base, player_id(sample[0]), args.periods)
        paths = [
            f"/v1/leaderboards/{BOARD}/players/{player_id(i)}/history?limit=100" for i in sample
        ]
        env_ = {"BENCH_PATHS": write_lines("history_paths.txt", paths)}
        meter = StoreMeter(opts.db_url, opts.db_name, opts.redis_url, opts.redis_db)
        meter.start()
        wrk = Wrk(opts, servers, meter)
        step("histories of 100 periods: one connection, then 16")
        wrk("warm-up", servers.base, "get.lua", env_, connections=4, duration=args.duration)
        one = wrk("history, 1 connection", servers.base, "get.lua", env_, connections=1)
        many = wrk("history, 16 connections", servers.base, "get.lua", env_, connections=16)
        meter.stop()
        for key, r in (("one", one), ("many", many)):
            results[key] = r.as_dict()
        console.print(f"  1 connection: p50 {one.p50_ms:.2f} ms, p99 {one.p99_ms:.2f} ms")
        results["load_average"].append(os.getloadavg()[0])
        return results


def main() -> None:
    run_section("history", "History", parse_args(), run, write_section)


if __name__ == "__main__":
    main()
