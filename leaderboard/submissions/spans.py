"""A ledger decision on a board of several spans (D-044): every span's entry follows it.

The ledger is the primary span's (one row per submission). An approval applies the held
submission to each other span's period holding the day it was submitted on; a void
recomputes each such entry from the submissions of that period still counted, and what
the ledger dropped of it (``scores.unledgered``, folded per span by ledger_retention.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from leaderboard.boards.models import Board
from leaderboard.boards.periods import day_within, period_start
from leaderboard.lib.db import Connection
from leaderboard.ranking.index import RankIndex
from leaderboard.scores.repository import ScoreRepository
from leaderboard.scores.review import better
from leaderboard.scores.writer import SpanScore
from leaderboard.submissions.repository import Entry, LedgerRepository, LedgerRow


def recomputed(board: Board, entry: Entry, remaining: int | None) -> int | None:
    """The stored score from what still counts: the ledger's rows and what it dropped."""
    kept = entry.unledgered
    if remaining is None or kept is None:
        return remaining if remaining is not None else kept
    if board.operator == "sum":
        return kept + remaining
    if board.operator == "latest":
        return remaining  # the ledger's rows are newer than what it dropped
    return remaining if better(board, remaining, kept) else kept


def span_periods_of(board: Board, row: LedgerRow) -> list[tuple[Board, date]]:
    """Each other span's view, and its period holding the day ``row`` was submitted on."""
    day = day_within(board.reset, row.period, row.submitted_at)
    return [(view, period_start(view.reset, day)) for view in board.views()[1:]]


@dataclass(frozen=True, slots=True)
class SpanVoid:
    """What a void did to one other span's entry."""

    view: Board
    period: date
    kept: bool
    """Rescored (the index reads it back); False: nothing counts any more, it went."""
    hidden: bool
    """A banned player's: the index has no entry to change."""


async def void_in_spans(
    conn: Connection,
    ledger: LedgerRepository,
    scores: ScoreRepository,
    board: Board,
    row: LedgerRow,
) -> list[SpanVoid]:
    """Recompute the voided row's entry in each other span, under the entries' row locks.

    Taken after the primary's, as the score statement takes them.
    """
    done = []
    for view, start in span_periods_of(board, row):
        entry = await ledger.locked_entry(conn, view.id, start, row.player_id, view.span_no)
        if entry is None:  # removed from that span, or dropped
            continue
        after = recomputed(
            board, entry, await ledger.remaining_in(conn, view, start, row.player_id)
        )
        if after is None:
            await scores.delete_entry(conn, view, start, row.player_id)
        else:
            await ledger.rescore(conn, view.id, start, row.player_id, after, view.span_no)
        done.append(SpanVoid(view, start, after is not None, entry.hidden))
    return done


def applying(
    index: RankIndex, view: Board, row: LedgerRow, span: SpanScore, country: str | None
) -> Callable[[], Awaitable[object]]:
    """Apply one span's committed row of an approval to that span's index."""
    return lambda: index.apply(
        view,
        span.period,
        row.player_id,
        span.score,
        span.reached_seq,
        changed=span.changed,
        country=country,
    )


def following(index: RankIndex, span: SpanVoid, row: LedgerRow) -> Callable[[], Awaitable[object]]:
    """What one other span's index does after a void: read the entry back, or drop it."""
    if span.kept:
        return lambda: index.apply_stored(span.view, span.period, row.player_id)
    return lambda: index.remove(span.view, span.period, row.player_id, announce=True)
