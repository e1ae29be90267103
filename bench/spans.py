"""Spans: what a submission to a board of three spans and a country segment costs.

`uv run python -m bench.spans [--players 2000] [--duration 10] [--rounds 3]`

1. the database `leaderboard_bench_spans` (dropped at the end), Redis db 15 under the
   prefix `lbbench-spans:` (unlinked at the end); `leaderboard serve --workers 2`;
2. `--players` devices sign in (their own tokens, as game clients), each given one of a
   few countries; two `best` boards: a plain daily one, and one with the spans
   `daily, weekly, never` and the `country` segment; each seeded with one score per
   player, and every index of the second (each span's, each country's) read once, so
   that every submission changes them all;
3. wrk submits random scores as the signed-in players to one board, then the other,
   `--rounds` times (bench/lua/player_submit.lua): the CPU per submission of the service,
   Postgres and Redis of each are compared;
4. wrk reads the spans board's top-100 and the 21 entries around a player in each rank
   style (`?ranks=ordinal`, `competition`, `dense`), in turn, `--rounds` times: the CPU
   per read (service + Redis) of the shared styles against `ordinal`.

Writes bench/results/spans.json and the "Spans" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
from dataclasses import replace
from typing import Any

import asyncpg
import httpx

from bench import ledger, players
from bench.common import console, run_section, step, write_lines
from bench.report_spans import write_section
from bench.runner import Wrk
from bench.store_cpu import StoreMeter
from bench.stores import side_service
from bench.wrk import WrkResult

BOARDS = {"plain": "spans-plain", "spans": "spans-three"}
SPECS: dict[str, dict[str, Any]] = {
    "plain": {"reset": "daily"},
    "spans": {"reset": "daily", "spans": ["daily", "weekly", "never"], "segments": ["country"]},
}
COUNTRIES = ["DE", "FR", "BR", "JP", "US"]
STYLES = ["ordinal", "competition", "dense"]


def seed(wrk: Wrk, base: str, token: str, signed: players.SignedIn) -> None:
    """The two boards, each with one score per player; every index of them read once."""
    admin = {"Authorization": f"Bearer {token}"}
    for key, board in BOARDS.items():
        body = players.board_body(board, **SPECS[key])
        httpx.post(
            f"{base}/v1/leaderboards", json=body, headers=admin, timeout=30
        ).raise_for_status()
        lines = [f'{t} {{"score":{i + 1}}}' for i, t in enumerate(signed.tokens[: signed.players])]
        players.burst(
            wrk, f"seed {board}", base, f"/v1/leaderboards/{board}/scores", lines, show=False
        )
    for span in SPECS["spans"]["spans"]:
        for country in [None, *COUNTRIES]:
            params = {"span": span} | ({"country": country} if country else {})
            url = f"{base}/v1/leaderboards/{BOARDS['spans']}/top"
            httpx.get(url, params=params, timeout=30).raise_for_status()


async def give_countries(db_url: str, player_ids: list[str]) -> None:
    """Each player one of COUNTRIES (straight in Postgres: the score statement reads it)."""
    conn = await asyncpg.connect(db_url)
    try:
        await conn.executemany(
            "UPDATE players SET country = $2 WHERE id = $1",
            [(p, COUNTRIES[i % len(COUNTRIES)]) for i, p in enumerate(player_ids)],
        )
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    opts = replace(
        ledger.options(args),
        db_name="leaderboard_bench_spans",
        key_prefix="lbbench-spans:",
        command="uv run python -m bench.spans",
    )
    results: dict[str, Any] = {
        "command": opts.command,
        "players": args.players,
        "countries": len(COUNTRIES),
        "duration_s": args.duration,
        "load_average": [os.getloadavg()[0]],
    }
    step(f"serve --workers 2; {args.players:,} players sign in; the two boards")
    async with side_service(opts) as (token, servers):
        meter = StoreMeter(opts.db_url, opts.db_name, opts.redis_url, opts.redis_db)
        meter.start()
        wrk = Wrk(opts, servers, meter)
        signed = players.sign_in(wrk, servers.base, args.players, args.players)
        await give_countries(opts.db_url, signed.player_ids)
        seed(wrk, servers.base, token, signed)
        runs: dict[str, list[WrkResult]] = {key: [] for key in BOARDS}
        step(f"signed-in submissions, {args.rounds} rounds: the plain board, then the spans'")
        for r in range(args.rounds):
            for key, board in BOARDS.items():
                env_ = {
                    "BENCH_BOARD": board,
                    "BENCH_TOKENS": signed.tokens_file,
                    "BENCH_SCORES": "random",
                }
                runs[key].append(wrk(f"{board} #{r + 1}", servers.base, "player_submit.lua", env_))
        summarize(results, runs)
        console.print(f"  spans ÷ plain, CPU per submission: {results['total_ratio']:.2f}×")
        step(f"reads in each rank style, {args.rounds} rounds: top-100 and around a player")
        results["reads"] = read_styles(wrk, servers.base, signed.player_ids, args)
        meter.stop()
        results["load_average"].append(os.getloadavg()[0])
        return results


def read_styles(
    wrk: Wrk, base: str, player_ids: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Each read in each rank style, in turn, ``args.rounds`` times; CPU per read (service
    + Redis) of each, and the shared styles' ratios to ``ordinal`` (median of rounds)."""
    board = f"/v1/leaderboards/{BOARDS['spans']}"
    sample = player_ids[:200]

    def paths(kind: str, style: str) -> list[str]:
        if kind == "top":
            return [f"{board}/top?limit=100&ranks={style}"]
        return [f"{board}/players/{p}/around?radius=10&ranks={style}" for p in sample]

    kinds = ("top", "around")
    cpu: dict[str, list[float]] = {}
    for r in range(args.rounds):
        for kind in kinds:
            for style in STYLES:
                env = {"BENCH_PATHS": write_lines(f"reads_{kind}_{style}.txt", paths(kind, style))}
                run = wrk(
                    f"{kind} {style} #{r + 1}", base, "get.lua", env, duration=args.duration / 2
                )
                cpu.setdefault(f"{kind}_{style}", []).append(
                    (run.cpu_us_per_request or 0.0) + (run.redis_cpu_us_per_request or 0.0)
                )
    reads: dict[str, Any] = {"cpu_us": cpu}
    for kind in kinds:
        for style in STYLES[1:]:
            reads[f"{kind}_{style}_ratio"] = statistics.median(
                s / o if o else 0.0
                for s, o in zip(cpu[f"{kind}_{style}"], cpu[f"{kind}_ordinal"], strict=True)
            )
    return reads


def summarize(results: dict[str, Any], runs: dict[str, list[WrkResult]]) -> None:
    """Per board: each round's CPU per submission (service, Postgres, Redis) and rate."""
    for key in BOARDS:
        results[f"{key}_cpu_us"] = [run.cpu_us_per_request or 0.0 for run in runs[key]]
        results[f"{key}_pg_us"] = [run.postgres_cpu_us_per_request or 0.0 for run in runs[key]]
        results[f"{key}_redis_us"] = [run.redis_cpu_us_per_request or 0.0 for run in runs[key]]
        results[f"{key}_rps"] = [run.rps for run in runs[key]]
        results[f"{key}_total_us"] = statistics.median(
            sum(parts)
            for parts in zip(
                results[f"{key}_cpu_us"],
                results[f"{key}_pg_us"],
                results[f"{key}_redis_us"],
                strict=True,
            )
        )
    for part in ("cpu", "pg", "redis"):
        results[f"{part}_ratio"] = statistics.median(
            s / p if p else 0.0
            for s, p in zip(results[f"spans_{part}_us"], results[f"plain_{part}_us"], strict=True)
        )
    results["total_ratio"] = results["spans_total_us"] / results["plain_total_us"]


def main() -> None:
    run_section("spans", "Spans", ledger.parse_args(), run, write_section)


if __name__ == "__main__":
    main()
