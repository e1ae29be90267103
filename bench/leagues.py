"""Leagues: what a league submission costs against a board's, and a season of 1 M closing.

`uv run --group bench python -m bench.leagues [--players 1000000] [--duration 10]`

1. the database `leaderboard_bench_leagues` (dropped at the end), Redis db 15 under the
   prefix `lbbench-leagues:` (unlinked at the end); `leaderboard serve --workers 2`;
2. a board (`best`) and a league (`sum`, cohorts of 30, three tiers), 10,000 players
   signed in through the API; wrk submits to each in turn as those players, with their
   own tokens (`bench/lua/player_submit.lua` with rising scores,
   `league_player_submit.lua`), three rounds, and the server CPU per request of each is
   compared;
3. a second league whose season has `--players` players, loaded by COPY (players and
   placements: 60 % Bronze, 30 % Silver, 10 % Gold), closed by the admin while wrk keeps
   submitting to the board and to the first league; the same loads alone before it, for
   comparison. Measured: the close's answer (results and next season committed), the
   time until every `season_ended` event is out and the cohorts' keys are gone, and what
   the other loads kept.

Writes bench/results/leagues.json and the "Leagues" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx

from bench import players as signed_in
from bench.common import RESULTS, ROOT, Options, console, run_section, step
from bench.report_leagues import write_section
from bench.runner import Load, Wrk
from bench.store_cpu import StoreMeter
from bench.stores import side_service
from bench.wrk import WrkResult

TIERS = [
    {"name": "Bronze", "promote": 5, "demote": 0},
    {"name": "Silver", "promote": 5, "demote": 5},
    {"name": "Gold", "promote": 0, "demote": 5},
]
SHARES = (0.6, 0.3, 0.1)  # of the closing season's players, by tier
COHORT = 30
HOT_PLAYERS = 10_000
BOARD_SCRIPT, LEAGUE_SCRIPT = "player_submit.lua", "league_player_submit.lua"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench.leagues", description=(__doc__ or "").splitlines()[0])
    p.add_argument("--players", type=int, default=1_000_000, help="players of the closing season")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    p.add_argument("--no-report", action="store_true", help="leave docs/benchmarks.md as it is")
    return p.parse_args()


async def copy_players(conn: asyncpg.Connection, count: int) -> list[str]:
    """``count`` new players by COPY; their ids."""
    ids = [uuid.uuid4() for _ in range(count)]
    await conn.copy_records_to_table(
        "players",
        records=[(i, hashlib.sha256(i.bytes).digest(), f"P-{i.hex[:8]}") for i in ids],
        columns=["id", "device_hash", "display_name"],
    )
    return [str(i) for i in ids]


async def copy_season(conn: asyncpg.Connection, league_id: str, players: list[str]) -> None:
    """Place ``players`` in season 1 of the league by COPY: tiers by SHARES, cohorts of 30
    in order, scores and sequences as submissions would leave them."""
    records = []
    joined: dict[int, int] = {}
    start = 0
    seq = await conn.fetchval("SELECT nextval('league_reached_seq')")
    for tier, share in enumerate(SHARES, start=1):
        end = start + round(len(players) * share) if tier < len(SHARES) else len(players)
        for n, player in enumerate(players[start:end]):
            seq += 1
            records.append(
                (league_id, 1, uuid.UUID(player), tier, n // COHORT + 1, (seq * 7919) % 10_000, seq)
            )
        joined[tier] = end - start
        start = end
    await conn.execute("SELECT setval('league_reached_seq', $1)", seq)
    await conn.copy_records_to_table(
        "league_members",
        records=records,
        columns=["league_id", "season", "player_id", "tier", "cohort", "score", "reached_seq"],
    )
    for tier, count in joined.items():
        await conn.execute(
            "UPDATE league_tiers SET joined = $3 WHERE league_id = $1 AND season = 1 AND tier = $2",
            league_id,
            tier,
            count,
        )
    await conn.execute("ANALYZE league_members")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    opts = Options(
        mode="quick",
        sizes=[],
        workers=2,
        duration=args.duration,
        connections=64,
        pg_url=args.pg_url,
        db_name="leaderboard_bench_leagues",
        redis_url=args.redis_url,
        key_prefix="lbbench-leagues:",
        report=ROOT / "docs/benchmarks.md",
        plot=RESULTS / "unused.png",
        no_profile=True,
        command="uv run --group bench python -m bench.leagues",
    )
    results: dict[str, Any] = {
        "players": args.players,
        "duration_s": args.duration,
        "load_average": [os.getloadavg()[0]],
    }
    step("serve --workers 2; a board, a league, 10,000 players")
    async with side_service(opts) as (token, servers):
        admin = {"Authorization": f"Bearer {token}"}
        limit = {"limit": 10_000, "window_seconds": 1}
        async with httpx.AsyncClient(base_url=servers.base, headers=admin, timeout=600) as api:
            for body, path in (
                ({"id": "bench-board", "rate_limit": limit}, "/v1/leaderboards"),
                (
                    {"id": "bench-league", "schedule": "weekly", "cohort_size": COHORT,
                     "tiers": TIERS, "rate_limit": limit},
                    "/v1/leagues",
                ),
                (
                    {"id": "bench-close", "schedule": "weekly", "cohort_size": COHORT,
                     "tiers": TIERS, "rate_limit": limit},
                    "/v1/leagues",
                ),
            ):  # fmt: skip
                answer = await api.post(path, json=body)
                assert answer.status_code == 201, answer.text
            meter = StoreMeter(opts.db_url, opts.db_name, opts.redis_url, opts.redis_db)
            meter.start()
            wrk = Wrk(opts, servers, meter)
            url = servers.base
            # Game clients submit with their players' own sessions, as in the main runs.
            signed = signed_in.sign_in(wrk, url, HOT_PLAYERS, HOT_PLAYERS)
            tokens = signed.tokens_file
            rising = signed_in.RisingScores()

            def board_env() -> dict[str, str]:
                """Scores above every earlier run's: each submission raises a best."""
                return {
                    "BENCH_BOARD": "bench-board",
                    "BENCH_TOKENS": tokens,
                    "BENCH_SCORES": "rising",
                    "BENCH_SCORE_BASE": str(rising.next()),
                }

            league_env = {"BENCH_LEAGUE": "bench-league", "BENCH_TOKENS": tokens}
            step("warm-up: every player's first submission to each")
            warm = max(args.duration, 10)
            wrk("warm-up board", url, BOARD_SCRIPT, board_env(), duration=warm)
            wrk("warm-up league", url, LEAGUE_SCRIPT, league_env, duration=warm)
            step(f"submissions, {args.rounds} rounds: a board's, then a league's")
            board_runs: list[WrkResult] = []
            league_runs: list[WrkResult] = []
            for r in range(args.rounds):
                board_runs.append(wrk(f"board submit #{r + 1}", url, BOARD_SCRIPT, board_env()))
                league_runs.append(wrk(f"league submit #{r + 1}", url, LEAGUE_SCRIPT, league_env))
            results["board_cpu_us"] = [run.cpu_us_per_request for run in board_runs]
            results["league_cpu_us"] = [run.cpu_us_per_request for run in league_runs]
            # Postgres' and Redis' CPU per request too (bench/store_cpu.py): a league's
            # statement is a PL/pgSQL loop where a board's is one set-based upsert.
            results["board_store_us"] = [
                (run.postgres_cpu_us_per_request, run.redis_cpu_us_per_request)
                for run in board_runs
            ]
            results["league_store_us"] = [
                (run.postgres_cpu_us_per_request, run.redis_cpu_us_per_request)
                for run in league_runs
            ]
            results["board_rps"] = [run.rps for run in board_runs]
            results["league_rps"] = [run.rps for run in league_runs]
            results["cpu_ratio"] = statistics.median(
                lg / bd
                for lg, bd in zip(results["league_cpu_us"], results["board_cpu_us"], strict=True)
            )
            console.print(f"  league ÷ board CPU per submission: {results['cpu_ratio']:.2f}×")

            step(f"a season of {args.players:,} players, loaded by COPY")
            conn = await asyncpg.connect(opts.db_url)
            try:
                t0 = time.monotonic()
                players = await copy_players(conn, args.players)
                await copy_season(conn, "bench-close", players)
                results["load_s"] = time.monotonic() - t0
            finally:
                await conn.close()
            console.print(f"  loaded in {results['load_s']:.1f} s")
            results["close"] = await close_under_load(api, wrk, url, board_env, league_env, opts)
            meter.stop()
            results["load_average"].append(os.getloadavg()[0])
        return results


async def close_under_load(
    api: httpx.AsyncClient,
    wrk: Wrk,
    url: str,
    board_env: Callable[[], dict[str, str]],
    league_env: dict[str, str],
    opts: Options,
) -> dict[str, Any]:
    """The other loads alone, then again while the season closes."""

    def loads() -> list[Load]:
        return [
            Load("board submit (c16)", url, BOARD_SCRIPT, board_env(), 16),
            Load("other league submit (c16)", url, LEAGUE_SCRIPT, league_env, 16),
        ]

    step("the other loads alone (board and another league, 16 connections each)")
    alone, _ = await asyncio.to_thread(wrk.together, loads(), 30.0)
    step("the same loads while the admin ends the season")
    running = asyncio.create_task(asyncio.to_thread(wrk.together, loads(), 30.0))
    await asyncio.sleep(3)  # the loads are under way
    t0 = time.monotonic()
    ended = await api.post("/v1/leagues/bench-close/season/end")
    assert ended.status_code == 200, ended.text
    answered = time.monotonic() - t0
    conn = await asyncpg.connect(opts.db_url)
    try:
        finished = await finished_after(conn, t0)
        results = await conn.fetchval(
            "SELECT count(*) FROM league_results WHERE league_id = 'bench-close'"
        )
        moved = await conn.fetch(
            "SELECT zone, count(*) AS n FROM league_results WHERE league_id = 'bench-close' "
            "GROUP BY zone ORDER BY zone"
        )
    finally:
        await conn.close()
    during, _ = await running
    console.print(f"  answered in {answered:.1f} s; events and clean-up done at {finished:.1f} s")
    return {
        "answered_s": answered,
        "finished_s": finished,
        "results": results,
        "zones": {row["zone"]: row["n"] for row in moved},
        "alone": [r.as_dict() for r in alone],
        "during": [r.as_dict() for r in during],
    }


async def finished_after(conn: asyncpg.Connection, since: float) -> float:
    """Seconds from ``since`` until the close is recorded finished (polled every 0.2 s)."""
    deadline = since + 600
    while time.monotonic() < deadline:
        if await conn.fetchval(
            "SELECT finished_at IS NOT NULL FROM league_closes WHERE league_id = 'bench-close'"
        ):
            return time.monotonic() - since
        await asyncio.sleep(0.2)
    raise SystemExit("error: the close did not finish within 10 minutes")


def main() -> None:
    run_section("leagues", "Leagues", parse_args(), run, write_section)


if __name__ == "__main__":
    main()
