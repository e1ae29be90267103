"""The ledger's retention: a board keeps each submission ``ledger_days`` whole days.

A submission made on UTC day D goes once day D + ``ledger_days`` is over (by Postgres'
clock, which wrote its ``submitted_at``), in bounded
batches, oldest first (one short statement each), by the retention job (retention.py)
under its lease. Pending submissions stay until decided.

What a dropped submission counted for is not lost: the same statement folds it into its
entry's ``scores.unledgered`` (the board's operator over the dropped submissions), from
which, with the rows still kept, a void recomputes the stored score exactly. Batches go
in id order, so each batch's newest is newer than anything dropped before it (``latest``).
"""

from __future__ import annotations

import functools

from leaderboard.boards.models import Board, Reset
from leaderboard.lib.db import Database
from leaderboard.scores.repository import PENDING, counted, ledger_day, status_of

# The operator over one batch's dropped counted submissions, and how it joins what the
# entry had dropped before (``c.unledgered``).
_OVER_BATCH = {
    "best-desc": ("max(score)", "GREATEST(c.unledgered, f.value)"),
    "best-asc": ("min(score)", "LEAST(c.unledgered, f.value)"),
    "sum": ("sum(score)::bigint", "COALESCE(c.unledgered, 0) + f.value"),
    "latest": ("(array_agg(score ORDER BY id DESC))[1]", "f.value"),
}
# The moment before which a board's submissions are past its window (whole UTC days
# back from today, $1 of them), and the first submission (of any board) still inside
# it: ids below it are older, so a board's batches read the primary key up to there.
_BOUNDARY = """
    WITH w AS (
        SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') - make_interval(days => $1))
               AT TIME ZONE 'UTC' AS cutoff
    )
    SELECT w.cutoff, (SELECT min(id) FROM submissions WHERE submitted_at >= w.cutoff)
           AS boundary
      FROM w
"""


def _span_start(span: Reset, day: str) -> str:
    """SQL: the first day of the period of ``span`` holding the date ``day``."""
    if span == "never":
        return "DATE '1970-01-01'"
    if span == "daily":
        return day
    unit = "week" if span == "weekly" else "month"  # ISO weeks start on Monday
    return f"date_trunc('{unit}', ({day})::timestamp)::date"


def _fold_spans(kind: str, reset: Reset, others: tuple[Reset, ...]) -> str:
    """CTEs folding the dropped submissions into a board's other spans' entries too.

    Each into the period of that span holding the day it counts on (submissions/spans.py).
    """
    over, joined = _OVER_BATCH[kind]
    day = ledger_day(reset, "gone")
    parts = []
    for n, span in enumerate(others, 1):
        parts.append(f"""
        counted_{n} AS (
            SELECT player_id, {_span_start(span, day)} AS period_start, {over} AS value
              FROM gone WHERE {counted("gone")}
             GROUP BY 1, 2
        ),
        entries_{n} AS (
            SELECT c.leaderboard_id, c.period_start, c.player_id FROM scores c
              JOIN counted_{n} f USING (period_start, player_id)
             WHERE c.leaderboard_id = $5 AND c.span = {n}
             ORDER BY c.period_start, c.player_id
               FOR UPDATE OF c
        ),
        folded_{n} AS (
            UPDATE scores c SET unledgered = {joined}
              FROM counted_{n} f, entries_{n} e
             WHERE c.leaderboard_id = e.leaderboard_id AND c.span = {n}
               AND c.period_start = e.period_start AND c.player_id = e.player_id
               AND f.period_start = e.period_start AND f.player_id = e.player_id
        ),""")  # noqa: S608 - the parts are this module's constants
    return "".join(parts)


@functools.cache
def _drop_batch(kind: str, reset: Reset = "never", others: tuple[Reset, ...] = ()) -> str:
    over, joined = _OVER_BATCH[kind]
    # Entries are locked in key order (as the score statement locks them: no deadlock).
    return f"""
        WITH old AS (
            SELECT id FROM submissions
             WHERE board_key = $1 AND submitted_at < $2 AND id < $3
               AND {status_of("submissions")} <> '{PENDING}'
             ORDER BY id LIMIT $4
        ),
        gone AS (
            DELETE FROM submissions s USING old WHERE s.id = old.id
            RETURNING s.id, s.player_id, s.period_start, s.score, s.details, s.submitted_at
        ),{_fold_spans(kind, reset, others)}
        counted AS (
            SELECT player_id, period_start, {over} AS value FROM gone
             WHERE {counted("gone")}
             GROUP BY player_id, period_start
        ),
        entries AS (
            SELECT c.leaderboard_id, c.period_start, c.player_id FROM scores c
              JOIN counted f USING (period_start, player_id)
             WHERE c.leaderboard_id = $5 AND c.span = 0  -- the ledger is the primary span's
             ORDER BY c.period_start, c.player_id
               FOR UPDATE OF c
        ),
        folded AS (
            UPDATE scores c SET unledgered = {joined}
              FROM counted f, entries e
             WHERE c.leaderboard_id = e.leaderboard_id AND c.span = 0
               AND c.period_start = e.period_start
               AND c.player_id = e.player_id
               AND f.period_start = e.period_start AND f.player_id = e.player_id
        )
        SELECT count(*) FROM gone
    """  # noqa: S608 - the parts are this module's constants


class LedgerRetention:
    def __init__(self, db: Database, batch_size: int) -> None:
        self._db = db
        self.batch_size = batch_size

    async def drop_batch(self, board: Board) -> int | None:
        """Drop one batch of the board's submissions past its window; how many went.

        None for a board without a ledger.
        """
        if board.ledger_days == 0:
            return None
        window = await self._db.fetchrow(_BOUNDARY, board.ledger_days)
        assert window is not None
        cutoff, boundary = window["cutoff"], window["boundary"]
        key = await self._db.fetchval("SELECT ledger_key FROM leaderboards WHERE id = $1", board.id)
        if key is None:  # deleted meanwhile
            return 0
        kind = "best-" + board.order if board.operator == "best" else board.operator
        dropped: int = await self._db.fetchval(
            _drop_batch(kind, board.reset, tuple(board.spans[1:])),
            key,
            cutoff,
            boundary if boundary is not None else 2**63 - 1,
            self.batch_size,
            board.id,
        )
        return dropped
