"""The index guard's digest pass: repair exactly the entries that differ, found by bucket.

Of a board period, the buckets whose entries differ between Postgres and the index.

Each round compares every bucket's digest on both sides (one read each, ~4096 buckets at
most, whatever the board's size: digests.py). Writes in flight (committed, not yet in
the index) make a bucket differ for a few milliseconds, so the buckets that differ are
read again after ``RECHECK_SECONDS``; only those that still differ are opened: their
rows (one primary-key range), what the index holds for those players, and the entries
that disagree are repaired one by one through the façade (as the rolling check does).
Rows changed in the last seconds are left to the next round (they may be in flight).

An entry Postgres does not have (a removal that never reached the index) shows as a
bucket whose index count is above the rows it matched; a lone one is named by the id
chunk sums, several by a scan of the members hash (rare: a bucket is 1/4096 of a board).
A bucket whose entries all agree while its digest does not (a score changed by hand in
Redis, repaired since) gets the digest its entries make.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date

from leaderboard.boards.models import Board
from leaderboard.ranking.digests import Digest, ScoreDigests, id_chunks, player_of_chunks
from leaderboard.ranking.index import RankIndex
from leaderboard.ranking.records import CheckedRow, ScoreRecords
from leaderboard.ranking.values import TOMBSTONE, HeldEntry, to_redis_score

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 0.25
# Buckets opened per index per round: bounds a round's cost when much differs at once
# (the rest are opened in the next rounds).
BUCKETS_PER_ROUND = 64
# Past this many differing buckets a rebuild is the cheaper repair.
REBUILD_ABOVE = 1024


@dataclass
class DigestReport:
    differing: int = 0
    """Buckets that still differed when read again."""
    repaired: int = 0
    removed: int = 0
    reseeded: int = 0
    """Buckets whose digest was set to what their entries make."""
    rebuild: bool = False
    """Too much differs: rebuild the index."""


class DigestPass:
    def __init__(self, *, digests: ScoreDigests, records: ScoreRecords, index: RankIndex) -> None:
        self._digests = digests
        self._records = records
        self._index = index

    async def run(self, board: Board, period: date, held: dict[int, str]) -> DigestReport:
        """Compare the index's digest ``held`` (read with the round's lock) with Postgres'."""
        report = DigestReport()
        ours = await self._digests.read(board, period)
        differing = _differing({b: Digest.parse(v) for b, v in held.items()}, ours)
        if not differing:
            return report
        if len(differing) > REBUILD_ABOVE:
            report.rebuild = True
            return report
        await asyncio.sleep(RECHECK_SECONDS)  # let writes in flight land
        again = await self._index.checks.digest_of(board, period, differing)
        ours = await self._digests.read(board, period, differing)
        still = _differing(
            {b: Digest.parse(v) for b, v in again.items() if v is not None},
            ours,
            among=differing,
        )
        report.differing = len(still)
        for bucket in still[:BUCKETS_PER_ROUND]:
            await self._open(board, period, bucket, again.get(bucket), report)
        return report

    async def _open(
        self, board: Board, period: date, bucket: int, seen: str | None, report: DigestReport
    ) -> None:
        """Compare one bucket entry by entry and repair what differs."""
        rows, made = await self._digests.bucket_rows(board, period, bucket)
        held = await self._index.checks.held(board, period, [row.player_id for row in rows])
        repaired, moved_on = await repair_disagreeing(
            self._records, self._index, board, period, rows, held
        )
        report.repaired += repaired
        index_side = Digest.parse(seen)
        matched = [
            row.player_id
            for row, entry in zip(rows, held, strict=True)
            if entry.redis_score is not None
        ]
        extras = index_side.entries - len(matched)
        if extras > 0:
            known = {row.player_id for row in rows}
            report.removed += await self._remove_extras(
                board, period, bucket, index_side, matched, known
            )
        elif (
            not repaired
            and not moved_on
            and extras == 0
            and seen is not None
            and all(row.settled for row in rows)
            and index_side != made
        ):
            # The entries agree, the digest does not: it missed a change made by hand.
            report.reseeded += await self._index.checks.set_digest(
                board, period, bucket, seen, made.text()
            )

    async def _remove_extras(
        self,
        board: Board,
        period: date,
        bucket: int,
        index_side: Digest,
        matched: list[str],
        known: set[str],
    ) -> int:
        """Remove the index's entries of ``bucket`` that Postgres does not have.

        ``matched``: the players of Postgres' rows the index holds; ``known``: all of them.
        """
        chunks = [id_chunks(player) for player in matched]
        rest = tuple(index_side.ids[i] - sum(c[i] for c in chunks) for i in range(7))
        lone = player_of_chunks(rest)
        candidates = [lone] if index_side.entries - len(matched) == 1 and lone else []
        if not candidates or lone in known:
            candidates = await self._index.checks.bucket_members(board, period, bucket)
        candidates = [player for player in candidates if player not in known]
        if not candidates:
            return 0
        # Read Postgres again: a player may have arrived since the bucket was read.
        present = {row.player_id for row in await self._records.rows_of(board, period, candidates)}
        held = await self._index.checks.held(board, period, candidates)
        removed = 0
        for player, entry in zip(candidates, held, strict=True):
            if player not in present and entry.redis_score is not None:
                removed += await self._index.remove(board, period, player)
        return removed


async def repair_disagreeing(
    records: ScoreRecords,
    index: RankIndex,
    board: Board,
    period: date,
    rows: list[CheckedRow],
    held: list[HeldEntry],
) -> tuple[int, int]:
    """Repair each entry that disagrees with its settled row; (repaired, moved on).

    ``rows`` were read before ``held``. A submission that committed and reached the index
    between the two reads makes its entry look newer than its row (which may have been
    settled when read), and repairing it would put the older score back in the index
    until the next round. So the rows that disagree are read again, after ``held``: an
    entry is repaired only if it still disagrees with its row and that row is settled.
    *Moved on* counts the rows that changed (or went) since the first read.
    """
    suspects = [
        (row, entry)
        for row, entry in zip(rows, held, strict=True)
        # A tombstone: the player is being deleted.
        if row.settled and entry.value != TOMBSTONE and not agrees(entry, row, board)
    ]
    if not suspects:
        return 0, 0
    now = {
        row.player_id: row
        for row in await records.rows_of(board, period, [row.player_id for row, _ in suspects])
    }
    repaired = moved_on = 0
    for row, entry in suspects:
        fresh = now.get(row.player_id)
        if fresh is None or not fresh.settled or fresh.reached_seq != row.reached_seq:
            moved_on += 1
            continue
        if agrees(entry, fresh, board):
            continue
        repaired += await index.correct(
            board, period, fresh.player_id, entry, fresh.score, fresh.reached_seq
        )
    return repaired, moved_on


def agrees(entry: HeldEntry, row: CheckedRow, board: Board) -> bool:
    """Whether the index's entry is Postgres' row: same sequence, same score."""
    if entry.seq != row.reached_seq or entry.redis_score is None:
        return False
    return int(float(entry.redis_score)) == to_redis_score(row.score, board.order)


def _differing(
    index_side: dict[int, Digest], ours: dict[int, Digest], among: list[int] | None = None
) -> list[int]:
    buckets = among if among is not None else sorted(set(index_side) | set(ours))
    return [b for b in buckets if index_side.get(b) != ours.get(b)]
