"""Retention: a resetting board keeps its last ``keep_periods`` periods; older ones go.

A background job, in every worker, every ``LEADERBOARD_RETENTION_CHECK_SECONDS``; one
worker at a time does the work, holding a lease (lib/leases.py: renewed as it goes,
expiring if its holder dies).

For each board with ``keep_periods`` and each period before its kept window, it:

1. takes the period's rebuild lock (``RankIndex.locked``): no rebuild can read the rows about to
   go and swap them back into Redis afterwards; a period whose rebuild is running waits
   for the next round;
2. deletes the period's rows, in bounded batches of one short transaction each (no
   long locks, nothing for vacuum to wait on), renewing the lease and the lock between
   batches;
3. deletes the period's index from Redis, still under the lock.

A period read afterwards has no rows: its index is rebuilt empty, and the answer is
"nothing recorded" (200, total 0). Until a round gets to a period, it reads as before.

Each round also forgets Idempotency-Keys past their 24 hours and drops the ledger's
submissions past each board's ``ledger_days`` (ledger_retention.py), in bounded batches,
and freezes the final standings of periods that ended (ranking/results.py: a player's
history reads them), dropping those of periods dropped here.

Once ``scores`` is partitioned (partitions.py), each round first makes the month
partitions of this month and the next, then drops whole any settled month partition
whose every period is past its board's window (under all those periods' rebuild locks),
and deletes rows only for what is left.
"""

from __future__ import annotations

import contextlib
import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date

import asyncpg
from prometheus_client import Counter

from leaderboard.boards.models import Board
from leaderboard.boards.periods import oldest_kept
from leaderboard.boards.service import BoardService
from leaderboard.lib.clock import Clock
from leaderboard.lib.db import Database
from leaderboard.lib.errors import DependencyUnavailableError
from leaderboard.lib.leases import Lease, LostLease
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.tasks import Periodic
from leaderboard.ranking.index import IndexLock, RankIndex
from leaderboard.scores.ledger_retention import LedgerRetention
from leaderboard.scores.partitions import MonthPartition, ScorePartitions
from leaderboard.scores.repository import ScoreRepository

logger = logging.getLogger(__name__)

DROPPED = Counter(
    "leaderboard_retention_rows_dropped_total",
    "Score rows of periods past their board's keep_periods, dropped by the retention job.",
)

LEASE = "retention"
# The lease outlives one batch by far; it is renewed after each.
LEASE_SECONDS = 60
_OUTAGES: tuple[type[Exception], ...] = (DependencyUnavailableError, *REDIS_OUTAGE_ERRORS)

# The distinct periods of a board before a date, by skipping along the primary key
# (one index probe per period, however many rows each holds).
_OLD_PERIODS = """
    WITH RECURSIVE p AS (
        (SELECT period_start FROM scores
          WHERE leaderboard_id = $1 AND period_start < $2
          ORDER BY period_start LIMIT 1)
        UNION ALL
        SELECT (SELECT s.period_start FROM scores s
                 WHERE s.leaderboard_id = $1 AND s.period_start > p.period_start
                   AND s.period_start < $2
                 ORDER BY s.period_start LIMIT 1)
          FROM p WHERE p.period_start IS NOT NULL
    )
    SELECT period_start FROM p WHERE period_start IS NOT NULL
"""
_DELETE_BATCH = """
    DELETE FROM scores WHERE (leaderboard_id, period_start, player_id) IN (
        SELECT leaderboard_id, period_start, player_id FROM scores
         WHERE leaderboard_id = $1 AND period_start = $2
         LIMIT $3)
"""


@dataclass
class RetentionReport:
    leased: bool = False
    """False: another worker holds the lease; this round did nothing."""
    dropped: dict[str, list[date]] = field(default_factory=dict)
    """Board id → the periods whose rows (and index) this round removed."""
    rows: dict[str, int] = field(default_factory=dict)
    """Board id → the rows this round deleted."""
    batches: dict[str, int] = field(default_factory=dict)
    """Board id → the DELETE statements (each one short transaction) this round ran."""
    busy: list[tuple[str, date]] = field(default_factory=list)
    """Periods skipped because their index was being rebuilt (the next round takes them)."""
    partitions_made: list[MonthPartition] = field(default_factory=list)
    partitions_dropped: list[MonthPartition] = field(default_factory=list)
    partitions_busy: list[MonthPartition] = field(default_factory=list)
    """Month partitions left for the next round: a lock was busy."""
    frozen: list[tuple[str, date]] = field(default_factory=list)
    """(board id, period) whose final standings this round froze (ranking/results.py)."""
    ledger_rows: dict[str, int] = field(default_factory=dict)
    """Board id → the ledger's submissions this round dropped (past ``ledger_days``)."""


class RetentionJob:
    def __init__(
        self,
        *,
        db: Database,
        boards: BoardService,
        index: RankIndex,
        scores: ScoreRepository,
        clock: Clock,
        interval_seconds: float,
        batch_size: int = 5000,
    ) -> None:
        self._db = db
        self._boards = boards
        self._index = index
        self._scores = scores
        self._clock = clock
        self.batch_size = batch_size
        self._lease = Lease(db, LEASE, LEASE_SECONDS)
        self.holder = self._lease.holder
        self._partitions = ScorePartitions(db)
        self._ledger = LedgerRetention(db, batch_size)
        self._rounds = Periodic("retention", interval_seconds, self.run_once, skippable=_OUTAGES)

    def start(self) -> None:
        self._rounds.start()

    async def close(self) -> None:
        await self._rounds.close()

    async def run_once(self) -> RetentionReport:
        """One round over every board; does nothing while another worker holds the lease."""
        report = RetentionReport()
        if not await self._renew_lease():
            return report
        report.leased = True
        try:
            await self._forget_idempotency_keys()
            today = self._clock().astimezone(UTC).date()
            boards = await self._boards.list()
            if await self._partitions.partitioned():
                await self._partition_round(boards, today, report)
            for board in boards:
                cutoff = oldest_kept(board, today)
                if cutoff is not None:
                    await self._drop_before(board, cutoff, report)
                    await self._index.results.forget_before(board, cutoff)
                # Ended periods' final standings, for the players' history.
                report.frozen += [
                    (board.id, p) for p in await self._index.results.freeze_ended(board)
                ]
                await self._drop_ledger(board, report)
        except LostLease:
            logger.warning("retention lease lost to another worker; it carries on")
        finally:
            with contextlib.suppress(*_OUTAGES):
                await self._lease.end()
        return report

    async def _partition_round(
        self, boards: list[Board], today: date, report: RetentionReport
    ) -> None:
        report.partitions_made, report.partitions_busy = await self._partitions.ensure_ahead(today)
        by_id = {board.id: board for board in boards}

        def past_window(board_id: str, period: date) -> bool:
            board = by_id.get(board_id)
            cutoff = None if board is None else oldest_kept(board, today)
            return cutoff is not None and period < cutoff

        for partition in await self._partitions.months():
            if not self._partitions.settled(partition, today):
                continue
            contents = await self._partitions.contents(partition)
            if all(past_window(board_id, period) for board_id, period in contents):
                await self._drop_partition(partition, contents, by_id, report)
                if not await self._renew_lease():
                    raise LostLease

    async def _drop_partition(
        self,
        partition: MonthPartition,
        contents: list[tuple[str, date]],
        boards: dict[str, Board],
        report: RetentionReport,
    ) -> None:
        """Drop a month partition whole, holding the rebuild lock of every period in it."""
        async with AsyncExitStack() as held:
            locks = []
            for board_id, period in contents:
                lock = await held.enter_async_context(self._index.locked(boards[board_id], period))
                if lock is None:
                    report.busy.append((board_id, period))
                    report.partitions_busy.append(partition)
                    return
                locks.append(lock)
            if not await self._partitions.drop(partition):
                report.partitions_busy.append(partition)
                return
            report.partitions_dropped.append(partition)
            for (board_id, period), lock in zip(contents, locks, strict=True):
                await lock.drop()
                report.dropped.setdefault(board_id, []).append(period)
        logger.info("retention: dropped partition %s (%d periods)", partition.name, len(contents))

    async def _drop_before(self, board: Board, cutoff: date, report: RetentionReport) -> None:
        rows = await self._db.fetch(_OLD_PERIODS, board.id, cutoff)
        for period in (row["period_start"] for row in rows):
            async with self._index.locked(board, period) as lock:
                if lock is None or not await self._drop_period(board, period, lock, report):
                    report.busy.append((board.id, period))
                    continue
            report.dropped.setdefault(board.id, []).append(period)
            logger.info(
                "retention: dropped %s period %s (keep_periods %s)",
                board.id, period.isoformat(), board.keep_periods,
            )  # fmt: skip
            if not await self._renew_lease():
                raise LostLease

    async def _drop_period(
        self, board: Board, period: date, lock: IndexLock, report: RetentionReport
    ) -> bool:
        """Delete the period's rows, then its index; False when the lock was lost midway."""
        while True:
            result = await self._db.execute(_DELETE_BATCH, board.id, period, self.batch_size)
            deleted = int(result.split()[-1])
            report.rows[board.id] = report.rows.get(board.id, 0) + deleted
            report.batches[board.id] = report.batches.get(board.id, 0) + 1
            DROPPED.inc(deleted)
            if deleted < self.batch_size:
                break
            if not await self._renew_lease():
                raise LostLease
            if not await lock.renew():
                # A rebuild may have started on the rows still there: leave the index
                # to the next round, which deletes what is left and the index after it.
                return False
        # This worker's pages of it go now; other workers' within their 500 ms.
        await lock.drop()
        return True

    async def _drop_ledger(self, board: Board, report: RetentionReport) -> None:
        """Drop the board's ledger rows past its ``ledger_days``, a batch at a time."""
        while True:
            try:
                dropped = await self._ledger.drop_batch(board)
            except asyncpg.DeadlockDetectedError:  # with a void: the next round goes on
                logger.info("retention: the ledger of %s waits for the next round", board.id)
                return
            if dropped is None:
                return
            if dropped:
                report.ledger_rows[board.id] = report.ledger_rows.get(board.id, 0) + dropped
            if dropped < self._ledger.batch_size:
                return
            if not await self._renew_lease():
                raise LostLease

    async def _forget_idempotency_keys(self) -> None:
        """Forget Idempotency-Keys past their 24 hours, in bounded batches."""
        while await self._scores.delete_expired_keys(limit=self.batch_size) >= self.batch_size:
            if not await self._renew_lease():
                raise LostLease

    async def _renew_lease(self) -> bool:
        return await self._lease.take()
