"""A submission's other spans (D-041): their periods, their index changes, their answers.

A board with several spans ranks each submission in the current period of every span.
The statement that commits it writes every span's row (upsert_sql.py); here each span's
index takes its row, and the answer says what each span made of it.
"""

from __future__ import annotations

from datetime import date, datetime

from leaderboard.boards.models import Board
from leaderboard.boards.periods import public_period, resolve_period
from leaderboard.lib.errors import DependencyUnavailableError, outage_reason
from leaderboard.lib.metrics import EVENTS_PUBLISHED
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.ranking.index import IndexChange, RankIndex
from leaderboard.scores.models import SpanResult
from leaderboard.scores.writer import StoredScore


def span_periods(board: Board, now: datetime) -> tuple[date, ...]:
    """The current period of each of the board's other spans (``spans[1:]``)."""
    return tuple(resolve_period(span, None, now) for span in board.spans[1:])


def span_result(
    period: date, score: int, *, changed: bool, inserted: bool, change: IndexChange
) -> SpanResult:
    """What one span made of a committed submission, from its index change."""
    result = SpanResult(
        period=public_period(period),
        score=score,
        rank=change.board_rank,
        previous_rank=change.board_previous_rank if changed else change.board_rank,
        previous_score=change.previous_score if changed else score,
        changed=changed,
    )
    if inserted or change.previous_rank is None or (changed and not change.written):
        # New here; or the index held this change already (a rebuild read it from
        # Postgres) or a newer one: what the entry was before is not known.
        result.previous_rank = result.previous_score = None
    return result


async def apply_spans(
    index: RankIndex, board: Board, player_id: str, stored: StoredScore
) -> dict[str, SpanResult]:
    """Put the submission's other spans' rows in their indexes; each span's answer.

    Raises DependencyUnavailableError when Redis is away: the rows are committed, and
    applied in the background meanwhile (as the primary's would be).
    """
    answers: dict[str, SpanResult] = {}
    for row in stored.spans:
        view = board.view_of(row.span_no)
        try:
            change = await index.apply(
                view,
                row.period,
                player_id,
                row.score,
                row.reached_seq,
                changed=row.changed,
                country=stored.country,
            )
        except REDIS_OUTAGE_ERRORS as exc:
            for late in stored.spans:
                if late.span_no >= row.span_no:
                    index.apply_later(board.view_of(late.span_no), late.period, player_id)
            raise DependencyUnavailableError(
                "redis",
                f"the score was recorded, but its rank cannot be read now ({outage_reason(exc)})",
            ) from exc
        if change.published:
            EVENTS_PUBLISHED.inc()
        answers[view.span] = span_result(
            row.period, row.score, changed=row.changed, inserted=row.inserted, change=change
        )
    return answers
