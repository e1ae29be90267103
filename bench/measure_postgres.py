"""Postgres alone: a player's rank by count(*) over an index on (board, period, score desc).

The index is the benchmark's own (created, vacuumed and dropped here); the query is a
prepared statement over the sampled players' scores.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from typing import Any

import asyncpg

from bench.common import Options, console
from bench.load import Board
from bench.records import PostgresRecord, PostgresResults

RANK_QUERY = (
    "SELECT count(*) FROM scores WHERE leaderboard_id = $1 AND period_start = $2 AND score > $3"
)
PERIOD = dt.date(1970, 1, 1)  # boards that never reset
QUERIES = 30  # per board size at most; at least 5, within Options.pg_budget_s


def plan_node(plan: str | list[dict[str, Any]]) -> str:
    """The scan's node type from ``EXPLAIN (FORMAT JSON)``'s output."""
    node: dict[str, Any] = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    inner: str = node.get("Plans", [{}])[0].get("Node Type", node["Node Type"])
    return inner


async def measure(opts: Options, boards: list[Board]) -> PostgresResults:
    conn = await asyncpg.connect(opts.db_url)
    out: list[PostgresRecord] = []
    try:
        t = time.perf_counter()
        await conn.execute(
            "CREATE INDEX bench_scores_rank ON scores (leaderboard_id, period_start, score DESC)"
        )
        await conn.execute("VACUUM (ANALYZE) scores")
        index_s = time.perf_counter() - t
        stmt = await conn.prepare(RANK_QUERY)
        for b in boards:
            plan = await conn.fetchval(
                f"EXPLAIN (ANALYZE, COSTS OFF, FORMAT JSON) {RANK_QUERY}",
                b.id,
                PERIOD,
                b.sample_scores[0],
            )
            inner = plan_node(plan)
            times = []
            budget = time.perf_counter() + opts.pg_budget_s
            for s in b.sample_scores[1 : QUERIES + 1]:
                t = time.perf_counter()
                await stmt.fetchval(b.id, PERIOD, s)
                times.append((time.perf_counter() - t) * 1000)
                if time.perf_counter() > budget and len(times) >= 5:
                    break
            rec: PostgresRecord = {
                "size": b.size,
                "board": b.id,
                "queries": len(times),
                "median_ms": statistics.median(times),
                "min_ms": min(times),
                "max_ms": max(times),
                "plan": inner,
            }
            out.append(rec)
            console.print(
                f"  {b.id}: Postgres count(*) rank median "
                f"{rec['median_ms']:.2f} ms over {len(times)} ({inner})"
            )
        await conn.execute("DROP INDEX bench_scores_rank")
    finally:
        await conn.close()
    return {"index_build_s": index_s, "by_size": out}
