"""Soak: mixed load against a real `leaderboard serve` with a fault every minute.

    uv run python -m bench.soak --minutes 30

Not part of CI. It starts `leaderboard serve --workers 2` over embedded Postgres and
Valkey in a scratch data directory, then runs signed-in submitters (each with their own
session token), readers of top pages and `around`, and SSE and WebSocket subscribers.
Each minute one fault, in turn: a uvicorn worker killed (SIGKILL; uvicorn's supervisor
must start another), the embedded Valkey killed (`serve` must restart it), Postgres
paused (SIGSTOP of all its processes) past the service's timeout, then resumed.

At the end it stops the load and checks: every acknowledged (200) submission is in
Postgres with a score at least as good; the ranks served equal Postgres' (within the
convergence window); each process's RSS grew less than 10 % after its first five minutes;
and it prints a report (docs/operations.md, "Soak", has the figures of a run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import asyncpg
import psutil

from bench.common import RUN, console, step
from bench.soak_load import Load
from bench.soak_procs import FaultResult, Service
from bench.soak_report import Verdict, memory_verdicts, print_report

CONVERGENCE_TIMEOUT_S = 120.0
SAMPLE_EVERY_S = 30.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench.soak", description=(__doc__ or "").splitlines()[0])
    p.add_argument("--minutes", type=int, default=30, help="how long the load runs (30)")
    p.add_argument("--workers", type=int, default=2, help="uvicorn workers (2)")
    p.add_argument("--boards", type=int, default=3)
    p.add_argument("--submitters", type=int, default=24, help="signed-in players (24)")
    p.add_argument("--readers", type=int, default=8)
    p.add_argument("--sse", type=int, default=3, help="SSE subscribers (3)")
    p.add_argument("--websockets", type=int, default=3, help="WebSocket subscribers (3)")
    p.add_argument(
        "--pace", type=float, default=0.5, help="seconds between one client's requests (0.5)"
    )
    p.add_argument("--seed", type=int, default=23)
    return p.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    RUN.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="leaderboard-soak-"))
    service = Service(data_dir, args.workers, RUN / "soak-serve.log")
    load_avg = [psutil.getloadavg()]
    try:
        step(f"start `leaderboard serve --workers {args.workers}` (embedded servers)")
        service.start()
        load = Load(service.base, service.admin_token, args.boards, random.Random(args.seed))
        await load.setup(args.submitters)
        step(
            f"{args.minutes} min: {args.submitters} submitters, {args.readers} readers, "
            f"{args.sse} SSE and {args.websockets} WebSocket subscribers; a fault a minute"
        )
        tasks = load.tasks(args.readers, args.sse, args.websockets, args.pace)
        faults = await _minutes(service, load, args.minutes, load_avg)
        load.stop.set()
        await asyncio.wait(tasks, timeout=20)
        for task in tasks:
            task.cancel()
        service.sample_memory()
        step("checks: acknowledged scores, ranks served against Postgres")
        database_url = service.urls["database_url"]
        lost = await _lost(database_url, load.tally.acknowledged)
        converged_s, diverged = await _converge(load, database_url)
        await load.aclose()
        verdicts = memory_verdicts(service.tracked)
        log = (RUN / "soak-serve.log").read_text(errors="replace")
        ok = print_report(
            args, load.tally, faults, lost, converged_s, diverged, verdicts, load_avg, log
        )
        _save(args, service, load, faults, lost, converged_s, verdicts, load_avg)
        return 0 if ok else 1
    finally:
        service.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def _minutes(
    service: Service, load: Load, minutes: int, load_avg: list[tuple[float, float, float]]
) -> list[FaultResult]:
    """Run the load for ``minutes``, a fault at the start of each minute but the first."""
    faults: list[FaultResult] = []
    started = time.monotonic()
    next_sample = 0.0
    for minute in range(minutes):
        minute_ends = started + (minute + 1) * 60
        if minute > 0:
            kind = (minute - 1) % 3
            if kind == 0:
                fault = await asyncio.to_thread(service.kill_worker, minute)
            elif kind == 1:
                fault = await asyncio.to_thread(service.restart_valkey, minute)
            else:
                pause = service.db_timeout_s + 3
                fault = await asyncio.to_thread(service.pause_postgres, minute, pause)
            faults.append(fault)
            recovered = (
                "not recovered" if fault.recovered_s is None else f"{fault.recovered_s:.1f} s"
            )
            console.print(f"  minute {minute}: {fault.fault}: {fault.detail} ({recovered})")
        while (now := time.monotonic()) < minute_ends:
            if now - started >= next_sample:
                await asyncio.to_thread(service.sample_memory)
                load_avg.append(psutil.getloadavg())
                next_sample += SAMPLE_EVERY_S
            await asyncio.sleep(min(1.0, minute_ends - now))
    return faults


async def _lost(database_url: str, acknowledged: list[tuple[str, str, int]]) -> list[str]:
    """Acknowledged scores that Postgres does not hold (or holds a worse score for)."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT leaderboard_id, player_id::text, score FROM scores")
    finally:
        await conn.close()
    stored = {(row[0], row[1]): row[2] for row in rows}
    return [
        f"{board} {player} {score} (stored: {stored.get((board, player))})"
        for board, player, score in acknowledged
        if stored.get((board, player), -1) < score
    ]


async def _converge(load: Load, database_url: str) -> tuple[float | None, list[str]]:
    """Seconds until every board's served ranking equals Postgres' (None: it did not)."""
    t0 = time.monotonic()
    diverged = list(load.boards)
    while time.monotonic() - t0 < CONVERGENCE_TIMEOUT_S:
        diverged = []
        for board in load.boards:
            if await load.served_ranking(board) != await _postgres_ranking(database_url, board):
                diverged.append(board)
        if not diverged:
            return time.monotonic() - t0, []
        await asyncio.sleep(1.0)
    return None, diverged


async def _postgres_ranking(database_url: str, board: str) -> list[tuple[str, int]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT player_id::text, score FROM scores WHERE leaderboard_id = $1 "
            "ORDER BY score DESC, reached_seq ASC",
            board,
        )
    finally:
        await conn.close()
    return [(row[0], row[1]) for row in rows]


def _save(
    args: argparse.Namespace,
    service: Service,
    load: Load,
    faults: list[FaultResult],
    lost: list[str],
    converged_s: float | None,
    verdicts: list[Verdict],
    load_avg: list[tuple[float, float, float]],
) -> None:
    result = {
        "args": vars(args),
        "submissions": dict(load.tally.submissions),
        "reads": dict(load.tally.reads),
        "acknowledged": len(load.tally.acknowledged),
        "events_by_minute": dict(load.tally.events_by_minute),
        "faults": [asdict(f) for f in faults],
        "lost": lost,
        "converged_s": converged_s,
        "memory": [asdict(v) for v in verdicts],
        "samples": {
            pid: {"role": t.role, "title": t.title, "samples": [asdict(x) for x in t.samples]}
            for pid, t in service.tracked.items()
        },
        "load_avg": load_avg,
    }
    (RUN / "soak.json").write_text(json.dumps(result, indent=2))


def main() -> None:
    sys.exit(asyncio.run(run(parse_args())))


if __name__ == "__main__":
    main()
