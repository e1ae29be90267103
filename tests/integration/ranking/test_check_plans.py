"""The index guard's reads of Postgres follow the primary key: no sort of a whole board.

The rolling check reads a board a slice at a time (``rows_after``); a slice must be a
range scan of ``scores_pkey``, whatever the board's size. Ordered by the wrong expression
(the ``player_id::text`` output column), each slice of a 10 M board was a parallel scan
and sort of all of it: 3.4 s of three Postgres processes every few seconds.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg
import pytest

from leaderboard.ranking.records import FIRST_PLAYER, ROWS_AFTER_SQL


def plan_nodes(plan: Any) -> list[dict[str, Any]]:
    """Every node of an ``EXPLAIN (FORMAT JSON)`` plan."""
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        found.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    return found


# The service's connections cache their statements: after a few runs Postgres may plan a
# statement once for any parameters (generic), so both plans must be the range scan.
@pytest.mark.parametrize("plans", ["force_custom_plan", "force_generic_plan"])
async def test_a_slice_of_the_rolling_check_is_a_range_scan_of_the_primary_key(
    database_url: str, plans: str
) -> None:
    conn = await asyncpg.connect(database_url, statement_cache_size=0)
    try:
        async with conn.transaction():
            # Whatever the table's size here, the plan must not need a scan in another
            # order and a sort; with sequential scans priced out, only an index can serve.
            await conn.execute("SET LOCAL enable_seqscan = off")
            await conn.execute(f"SET LOCAL plan_cache_mode = {plans}")
            plan = await conn.fetchval(
                "EXPLAIN (FORMAT JSON) " + ROWS_AFTER_SQL,
                "some-board",
                date(1970, 1, 1),
                FIRST_PLAYER,
                1000,
                0,
            )
    finally:
        await conn.close()
    nodes = plan_nodes(plan)
    kinds = [node["Node Type"] for node in nodes]
    assert not [kind for kind in kinds if kind.endswith("Sort")], kinds
    scans = [node for node in nodes if "Index Name" in node]
    assert [node["Index Name"] for node in scans] == ["scores_pkey"], kinds
