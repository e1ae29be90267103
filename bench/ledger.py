"""The ledger: what keeping every submission costs, and how fast a void recomputes.

`uv run python -m bench.ledger [--players 2000] [--duration 10] [--rounds 3]`

1. the database `leaderboard_bench_ledger` (dropped at the end), Redis db 15 under the
   prefix `lbbench-ledger:` (unlinked at the end); `leaderboard serve --workers 2`;
2. `--players` devices sign in (their own tokens, as game clients); two `best` boards,
   `ledger_days` 0 and 30, each seeded with one score per player;
3. wrk submits random scores as the signed-in players to one board, then the other,
   `--rounds` times (bench/lua/player_submit.lua): the service's CPU and Postgres' per
   submission of each are compared;
4. the ledger's size: `pg_total_relation_size('submissions')` per row, and per part;
5. a player with 10,000 submissions in the period (COPY into the ledger), voided through
   the API 20 times, the best each time: each void recomputes from all of them.

Writes bench/results/ledger.json and the "Ledger" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from bench import players
from bench.common import RESULTS, ROOT, Options, console, run_section, step
from bench.report_ledger import write_section
from bench.runner import Wrk
from bench.store_cpu import StoreMeter
from bench.stores import side_service
from bench.wrk import WrkResult

BOARDS = {"off": "ledger-off", "on": "ledger-on"}
VOID_ROWS = 10_000
VOIDS = 20


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench.ledger", description=(__doc__ or "").splitlines()[0])
    p.add_argument("--players", type=int, default=2_000)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    p.add_argument("--no-report", action="store_true", help="leave docs/benchmarks.md as it is")
    return p.parse_args()


def options(args: argparse.Namespace) -> Options:
    return Options(
        mode="quick",
        sizes=[],
        workers=2,
        duration=args.duration,
        connections=64,
        pg_url=args.pg_url,
        db_name="leaderboard_bench_ledger",
        redis_url=args.redis_url,
        key_prefix="lbbench-ledger:",
        report=ROOT / "docs/benchmarks.md",
        plot=RESULTS / "unused.png",
        no_profile=True,
        command="uv run python -m bench.ledger",
    )


def make_boards(wrk: Wrk, base: str, token: str, signed: players.SignedIn) -> None:
    """The two boards, each with one random score per player (sent with their tokens)."""
    admin = {"Authorization": f"Bearer {token}"}
    for key, board in BOARDS.items():
        body = players.board_body(board, ledger_days=0 if key == "off" else 30)
        httpx.post(
            f"{base}/v1/leaderboards", json=body, headers=admin, timeout=30
        ).raise_for_status()
        lines = [f'{t} {{"score":{i + 1}}}' for i, t in enumerate(signed.tokens[: signed.players])]
        players.burst(
            wrk, f"seed {board}", base, f"/v1/leaderboards/{board}/scores", lines, show=False
        )


async def ledger_size(db_url: str) -> dict[str, float]:
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("VACUUM ANALYZE submissions")
        rows = await conn.fetchval("SELECT count(*) FROM submissions")
        per_player = await conn.fetchval(
            "SELECT avg(n) FROM (SELECT count(*) AS n FROM submissions GROUP BY player_id) c"
        )

        async def size(expr: str) -> int:
            return int(await conn.fetchval(f"SELECT {expr}"))

        total = await size("pg_total_relation_size('submissions')")
        parts = {
            "heap": await size("pg_table_size('submissions')"),
            "pkey": await size("pg_relation_size('submissions_pkey')"),
            "entry": await size("pg_relation_size('submissions_entry')"),
            "pending": await size("pg_relation_size('submissions_pending')"),
        }
    finally:
        await conn.close()
    result = {
        "rows": float(rows),
        "bytes_per_row": total / rows,
        "rows_per_player": float(per_player),
    }
    result |= {f"{name}_per_row": value / rows for name, value in parts.items()}
    return result


async def voids(db_url: str, api: httpx.AsyncClient, player: str) -> list[float]:
    """Give ``player`` VOID_ROWS submissions on the ledger board; void the best, VOIDS times."""
    conn = await asyncpg.connect(db_url)
    try:
        key = await conn.fetchval("SELECT ledger_key FROM leaderboards WHERE id = $1", BOARDS["on"])
        period = await conn.fetchval(
            "SELECT period_start FROM scores WHERE leaderboard_id = $1 LIMIT 1", BOARDS["on"]
        )
        now = datetime.now(UTC)
        await conn.copy_records_to_table(
            "submissions",
            records=[(10_000_000 + i, now, player, period, key) for i in range(VOID_ROWS)],
            columns=["score", "submitted_at", "player_id", "period_start", "board_key"],
        )
        await conn.execute("ANALYZE submissions")
    finally:
        await conn.close()
    # The best now is the COPY's last; the API's entry learns it from the first void.
    took = []
    listed = await api.get(
        f"/v1/leaderboards/{BOARDS['on']}/players/{player}/submissions", params={"limit": VOIDS}
    )
    listed.raise_for_status()
    for submission in listed.json()["submissions"]:
        t0 = time.perf_counter()
        answer = await api.post(
            f"/v1/submissions/{submission['id']}/void", json={"reason": "bench"}
        )
        took.append((time.perf_counter() - t0) * 1000)
        answer.raise_for_status()
    return took


async def run(args: argparse.Namespace) -> dict[str, Any]:
    opts = options(args)
    results: dict[str, Any] = {
        "command": opts.command,
        "players": args.players,
        "duration_s": args.duration,
        "load_average": [os.getloadavg()[0]],
        "void_rows": VOID_ROWS,
    }
    step(f"serve --workers 2; {args.players:,} players sign in; the two boards")
    async with side_service(opts) as (token, servers):
        meter = StoreMeter(opts.db_url, opts.db_name, opts.redis_url, opts.redis_db)
        meter.start()
        wrk = Wrk(opts, servers, meter)
        signed = players.sign_in(wrk, servers.base, args.players, args.players)
        make_boards(wrk, servers.base, token, signed)
        tokens = signed.tokens_file
        runs: dict[str, list[WrkResult]] = {"off": [], "on": []}
        step(f"signed-in submissions, {args.rounds} rounds: without a ledger, then with")
        for r in range(args.rounds):
            for key, board in BOARDS.items():
                env_ = {"BENCH_BOARD": board, "BENCH_TOKENS": tokens, "BENCH_SCORES": "random"}
                runs[key].append(wrk(f"{board} #{r + 1}", servers.base, "player_submit.lua", env_))
        for key in BOARDS:
            results[f"{key}_cpu_us"] = [run.cpu_us_per_request for run in runs[key]]
            results[f"{key}_pg_us"] = [run.postgres_cpu_us_per_request for run in runs[key]]
            results[f"{key}_rps"] = [run.rps for run in runs[key]]
        results["cpu_ratio"] = statistics.median(
            on / off for on, off in zip(results["on_cpu_us"], results["off_cpu_us"], strict=True)
        )
        results["pg_ratio"] = statistics.median(
            on / off for on, off in zip(results["on_pg_us"], results["off_pg_us"], strict=True)
        )
        meter.stop()
        console.print(f"  ledger ÷ none, CPU per submission: {results['cpu_ratio']:.2f}×")
        step("the ledger's size")
        results["size"] = await ledger_size(opts.db_url)
        console.print(f"  {results['size']['bytes_per_row']:.0f} bytes per kept submission")
        step(f"voids on a player with {VOID_ROWS:,} submissions")
        admin = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=servers.base, headers=admin, timeout=60) as api:
            results["void_ms"] = await voids(opts.db_url, api, signed.player_ids[0])
        console.print(f"  void: median {statistics.median(results['void_ms']):.1f} ms")
        results["load_average"].append(os.getloadavg()[0])
        return results


def main() -> None:
    run_section("ledger", "Ledger", parse_args(), run, write_section)


if __name__ == "__main__":
    main()
