"""Convergence: how long a divergence of a big board's index lasts, and what finding it costs.

`uv run python -m bench.convergence [--size 10000000] [--rate 200] [--rounds 8]`

1. the database `leaderboard_bench_convergence` (dropped at the end), Redis db 15 under
   the prefix `lbbench-conv:` (unlinked at the end); a board (`best`, desc) of `--size`
   players loaded by COPY (the digest triggers run), its index rebuilt;
2. a child process submits `--rate` scores a second to random players of a 10,000-player
   sample, through the app (the write path: Postgres, then the index);
3. this process runs the index guard every `--interval` seconds (as each worker does) and
   nothing else; after two rounds it injects four divergences at a random moment of a
   round, on players outside the sample: a wrong entry the index took through its scripts
   (a newer sequence, a score Postgres never had), an entry the index lost, a score
   changed by hand in Postgres, a row deleted by hand in Postgres (an extra entry);
4. measured: each fault's time to repair (injection → the end of the round that left the
   index equal to Postgres for it), the guard's CPU time per round (this process's, the
   rounds only) and its share of one core over the run, and Redis memory per entry.

Writes bench/results/convergence-<size>.json and prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from bench.common import RESULTS, ROOT
from leaderboard.boards.service import BoardService
from leaderboard.lib.features import Services
from leaderboard.lib.keys import Keys
from leaderboard.lib.settings import Settings
from leaderboard.ops.migrations import apply_migrations
from leaderboard.ranking.guard import IndexGuard
from leaderboard.ranking.index import RankIndex
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin

DB = "leaderboard_bench_convergence"
PREFIX = "lbbench-conv:"
ADMIN_TOKEN = "bench-convergence-admin-token-0123456789"  # noqa: S105 (a local bench)
ALL = date(1970, 1, 1)
SAMPLE = 10_000
BOARD = "convergence"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench.convergence", description=(__doc__ or "").split("\n")[0]
    )
    p.add_argument("--size", type=int, default=10_000_000, help="entries of the board")
    p.add_argument("--rate", type=float, default=200.0, help="submissions a second")
    p.add_argument("--interval", type=float, default=20.0, help="seconds between rounds")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    p.add_argument("--db", default=DB, help="the database made (and dropped) for the run")
    p.add_argument("--prefix", default=PREFIX, help="the Redis key prefix of the run")
    p.add_argument("--results", default=str(RESULTS), help="where the JSON goes")
    p.add_argument("--submitter", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def settings(args: argparse.Namespace) -> Settings:
    return Settings.from_mapping(
        {
            "database_url": f"{args.pg_url}/{args.db}",
            "redis_url": args.redis_url,
            "redis_key_prefix": args.prefix,
            "admin_token": ADMIN_TOKEN,
            "index_check_seconds": 3600,  # this bench runs the rounds itself
        }
    )


@asynccontextmanager
async def app_of(args: argparse.Namespace) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    app: Litestar = create_app(settings(args))
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://b") as http:
        yield http, app.plugins.get(InfrastructurePlugin).services


async def preload(args: argparse.Namespace) -> None:
    server = await asyncpg.connect(f"{args.pg_url}/postgres")
    await server.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    await server.execute(f'CREATE DATABASE "{args.db}"')
    await server.close()
    await apply_migrations(f"{args.pg_url}/{args.db}")
    async with app_of(args) as (http, _):
        body = {
            "id": BOARD,
            "order": "desc",
            "rate_limit": {"limit": 10_000, "window_seconds": 1},
        }
        created = await http.post(
            "/v1/leaderboards", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        assert created.status_code == 201, created.text
    conn = await asyncpg.connect(f"{args.pg_url}/{args.db}")
    chunk, started, now = 500_000, time.monotonic(), datetime.now(UTC)
    settled = now - timedelta(hours=1)  # older than the guard's settling time
    for first in range(0, args.size, chunk):
        ids = [uuid.uuid4() for _ in range(min(chunk, args.size - first))]
        await conn.copy_records_to_table(
            "players",
            records=[(p, p.bytes * 2, f"P{first + i}") for i, p in enumerate(ids)],
            columns=["id", "device_hash", "display_name"],
        )
        await conn.copy_records_to_table(
            "scores",
            records=[
                (BOARD, ALL, p, random.randrange(10**9), first + i + 1, now, settled)
                for i, p in enumerate(ids)
            ],
            columns=["leaderboard_id", "period_start", "player_id", "score", "reached_seq",
                     "reached_at", "updated_at"],
        )  # fmt: skip
    await conn.execute("SELECT setval('score_reached_seq', $1)", args.size + 1)
    await conn.execute("VACUUM ANALYZE scores")
    await conn.close()
    print(f"loaded {args.size} rows in {time.monotonic() - started:.0f} s", flush=True)


async def submit_paced(args: argparse.Namespace) -> None:
    """The child: ``--rate`` submissions a second until killed."""
    conn = await asyncpg.connect(f"{args.pg_url}/{args.db}")
    sample = [r[0] for r in await conn.fetch("SELECT player_id::text FROM sample")]
    await conn.close()
    async with app_of(args) as (http, _):
        step, due = 1 / args.rate, time.monotonic()
        while True:
            player = random.choice(sample)
            response = await http.post(
                f"/v1/leaderboards/{BOARD}/scores",
                json={"player_id": player, "score": random.randrange(10**9)},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            assert response.status_code == 200, response.text
            due += step
            await asyncio.sleep(max(0.0, due - time.monotonic()))


async def faults(conn: asyncpg.Connection, index: RankIndex, services: Services) -> dict[str, str]:
    """Inject the four divergences; their players by kind."""
    players = [
        r[0]
        for r in await conn.fetch(
            "SELECT player_id::text FROM scores TABLESAMPLE BERNOULLI (10) WHERE player_id NOT IN"
            " (SELECT player_id FROM sample) LIMIT 4"
        )
    ]
    board = await services.get(BoardService).get(BOARD)
    wrong, lost, by_hand, deleted = players
    await index.apply(board, ALL, wrong, 2 * 10**9, 10**15, changed=True, announce=False)
    await index.remove(board, ALL, lost)
    await conn.execute(
        "UPDATE scores SET score = score + 1, reached_seq = nextval('score_reached_seq'),"
        " updated_at = now() - interval '1 minute' WHERE player_id = $1::uuid",
        by_hand,
    )
    await conn.execute("DELETE FROM scores WHERE player_id = $1::uuid", deleted)
    return {"wrong entry": wrong, "lost entry": lost, "changed in Postgres": by_hand,
            "deleted in Postgres": deleted}  # fmt: skip


async def agrees(conn: asyncpg.Connection, redis: Any, keys: Any, player: str) -> bool:
    row = await conn.fetchrow(
        "SELECT score, reached_seq FROM scores WHERE player_id = $1::uuid", player
    )
    seq = await redis.hget(keys.members, player)
    if row is None:
        return seq is None
    if seq is None:
        return False
    score = await redis.zscore(keys.scores, f"{seq}:{player}")
    return bool(seq == f"{row['reached_seq']:016x}" and score == -row["score"])


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    conn = await asyncpg.connect(f"{args.pg_url}/{args.db}")
    sample = min(SAMPLE, args.size // 2)  # the submitted players; the faults' are others
    await conn.execute(
        "CREATE TABLE sample AS SELECT player_id FROM scores TABLESAMPLE BERNOULLI"
        f" ({min(100, 200 * sample / args.size)}) LIMIT {sample}"
    )
    async with app_of(args) as (_, services):
        index, guard = services.get(RankIndex), services.get(IndexGuard)
        board = await services.get(BoardService).get(BOARD)
        started = time.monotonic()
        await index.rebuild(board, ALL)
        rebuilt = time.monotonic() - started
        redis = services.infra.redis
        keys = Keys(args.prefix).index(BOARD, "all")
        memory = {
            k: await redis.memory_usage(getattr(keys, k)) for k in ("scores", "members", "digest")
        }
        child = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "bench.convergence", "--submitter", *args.argv], cwd=ROOT
        )
        rounds: list[dict[str, Any]] = []
        injected: dict[str, str] = {}
        inject_at, repaired_after = 0.0, {}
        try:
            for n in range(args.rounds):
                begin = time.monotonic()
                if n == 2:
                    await asyncio.sleep(random.uniform(0, args.interval))
                    inject_at = time.monotonic()
                    injected = await faults(conn, index, services)
                    await asyncio.sleep(max(0.0, begin + args.interval - time.monotonic()))
                    begin = time.monotonic()
                await redis.delete(keys.check)
                cpu = time.process_time()
                report = await guard.run_once()
                cpu, wall = time.process_time() - cpu, time.monotonic() - begin
                (mine,) = [p for p in report.periods if p.board_id == BOARD]
                rounds.append({"cpu_ms": cpu * 1000, "wall_ms": wall * 1000,
                               "differing": mine.differing, "repaired": mine.repaired,
                               "removed": mine.removed, "rebuilt": mine.rebuilt})  # fmt: skip
                print(json.dumps(rounds[-1]), flush=True)
                for kind, player in injected.items():
                    if kind not in repaired_after and await agrees(conn, redis, keys, player):
                        repaired_after[kind] = time.monotonic() - inject_at
                await asyncio.sleep(max(0.0, begin + args.interval - time.monotonic()))
        finally:
            child.kill()
            child.wait()  # killed: returns at once
        total_cpu = sum(r["cpu_ms"] for r in rounds) / 1000
    await conn.close()
    return {
        "size": args.size,
        "rate": args.rate,
        "interval_s": args.interval,
        "rebuild_s": rebuilt,
        "rounds": rounds,
        "repaired_after_s": repaired_after,
        "guard_cpu_ms_per_round": total_cpu * 1000 / len(rounds),
        "guard_cpu_share": total_cpu / (len(rounds) * args.interval),
        "redis_bytes_per_entry": sum(v or 0 for v in memory.values()) / args.size,
        "digest_bytes": memory["digest"],
    }


async def cleanup(args: argparse.Namespace) -> None:
    async with app_of(args) as (_, services):
        await services.get(RankIndex).forget_board(BOARD)
    server = await asyncpg.connect(f"{args.pg_url}/postgres")
    await server.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    await server.close()


async def run(argv: list[str] | None = None) -> dict[str, Any]:
    """The whole benchmark (or, with ``--submitter``, the child that submits)."""
    args = parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    if args.submitter:
        await submit_paced(args)
        return {}
    await preload(args)
    try:
        result = await measure(args)
    finally:
        await cleanup(args)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / f"convergence-{args.size}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "rounds"}, indent=2))
    return result


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(run())
