"""Partitions of ``scores``, once it is partitioned (db/pending/scores_partitioned.sql).

``scores`` is hashed by board into ``BUCKETS`` buckets, each divided by the month its
periods start in (docs/postgres.md, "Partitioning"). New boards need nothing; this
module, driven by the retention job (retention.py), keeps the partitions of this month
and the next ready ahead of time, and finds old months that may go whole. The DDL itself
lives in the migration's SQL functions (``scores_ensure_month``, ``scores_drop_month``),
which lock in a fixed order and give up after ``lock_timeout`` rather than make writers
queue behind them; a month that could not be done now is tried again next round.

On an unpartitioned ``scores`` (the schema of db/migrations today) every method here is
a no-op, and retention deletes rows only.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg

from leaderboard.lib.db import Database

logger = logging.getLogger(__name__)

BUCKETS = 8
# A month partition may still be written while a current period starts in it: a week
# starts at most six days before today.
WRITABLE_DAYS = 7
_LEAF = re.compile(r"^scores_h(?P<bucket>\d+)_(?P<month>\d{6})$")

# Its distinct (board, period) pairs, skipping along the partition's primary key.
_CONTENTS = """
    WITH RECURSIVE k AS (
        (SELECT leaderboard_id, period_start FROM {leaf}
          ORDER BY leaderboard_id, period_start LIMIT 1)
        UNION ALL
        SELECT n.leaderboard_id, n.period_start FROM k, LATERAL (
            SELECT s.leaderboard_id, s.period_start FROM {leaf} s
             WHERE (s.leaderboard_id, s.period_start) > (k.leaderboard_id, k.period_start)
             ORDER BY s.leaderboard_id, s.period_start LIMIT 1) n
    )
    SELECT leaderboard_id, period_start FROM k
"""


@dataclass(frozen=True, slots=True)
class MonthPartition:
    bucket: int
    month: date
    """The first day of the month whose periods it holds."""

    @property
    def name(self) -> str:
        return f"scores_h{self.bucket}_{self.month:%Y%m}"

    @property
    def end(self) -> date:
        return next_month(self.month)


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


class ScorePartitions:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def partitioned(self) -> bool:
        relkind = await self._db.fetchval(
            "SELECT relkind::text FROM pg_class WHERE oid = to_regclass('scores')"
        )
        return bool(relkind == "p")

    async def ensure_ahead(self, today: date) -> tuple[list[MonthPartition], list[MonthPartition]]:
        """Make this month's and next month's partitions in every bucket.

        Returns those made now and those that could not be (a lock was busy).
        """
        made: list[MonthPartition] = []
        busy: list[MonthPartition] = []
        this = month_of(today)
        for bucket in range(BUCKETS):
            for month in (this, next_month(this)):
                partition = MonthPartition(bucket, month)
                try:
                    if await self._db.fetchval("SELECT scores_ensure_month($1, $2)", bucket, month):
                        made.append(partition)
                except asyncpg.LockNotAvailableError:
                    busy.append(partition)
        if made:
            logger.info("made score partitions %s", ", ".join(p.name for p in made))
        return made, busy

    async def months(self) -> list[MonthPartition]:
        """Every month partition there is, oldest first."""
        rows = await self._db.fetch(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent IN (SELECT inhrelid FROM pg_inherits
                                    WHERE inhparent = to_regclass('scores'))
            """
        )
        found = []
        for row in rows:
            match = _LEAF.fullmatch(row["relname"])
            if match:
                month = date(int(match["month"][:4]), int(match["month"][4:]), 1)
                found.append(MonthPartition(int(match["bucket"]), month))
        return sorted(found, key=lambda p: (p.month, p.bucket))

    def settled(self, partition: MonthPartition, today: date) -> bool:
        """No current period can start in it any more: nothing writes to it."""
        return partition.end <= today - timedelta(days=WRITABLE_DAYS)

    async def contents(self, partition: MonthPartition) -> list[tuple[str, date]]:
        """The (board, period) pairs with rows in the partition."""
        # The name is ours (matched by _LEAF), quoted all the same.
        leaf = '"' + partition.name + '"'
        rows = await self._db.fetch(_CONTENTS.format(leaf=leaf))
        return [(row["leaderboard_id"], row["period_start"]) for row in rows]

    async def drop(self, partition: MonthPartition) -> bool:
        """Drop it; False when a lock was busy (or it is gone already)."""
        try:
            dropped = await self._db.fetchval(
                "SELECT scores_drop_month($1, $2)", partition.bucket, partition.month
            )
        except asyncpg.LockNotAvailableError:
            return False
        return bool(dropped)
