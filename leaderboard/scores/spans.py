"""A submission's other spans (D-041): their periods, their index changes, their answers.

A board with several spans ranks each submission in the current period of every span.
The statement that commits it writes every span's row (upsert_sql.py); here each span's
index takes its row, and the answer says what each span made of it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime

from leaderboard.boards.models import Board
from leaderboard.boards.periods import public_period, resolve_period
from leaderboard.lib.errors import DependencyUnavailableError, outage_reason
from leaderboard.lib.metrics import BUFFER, EVENTS_PUBLISHED
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.ranking.index import IndexChange, RankIndex, SpanChange
from leaderboard.scores.models import SpanResult
from leaderboard.scores.writer import SpanScore, StoredScore


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
    index: RankIndex, board: Board, period: date, player_id: str, stored: StoredScore
) -> dict[str, SpanResult]:
    """Put a committed submission's rows in their spans' indexes; each span's answer.

    The primary first in the answer, then the others in the board's order. Every span's
    change is one script run (index_apply_spans.lua): one round trip, as a plain board's.

    Raises:
        DependencyUnavailableError: Redis is away. The rows are committed; those that did
            not reach their index are applied in the background meanwhile.

    """
    rows = [
        SpanScore(0, period, stored.score, stored.reached_seq, stored.changed,
                  stored.inserted, None),
        *stored.spans,
    ]  # fmt: skip
    views = [board.view_of(row.span_no) for row in rows]
    if len(rows) == 1:  # a board of one span: as it always was
        outcomes: list[IndexChange | BaseException] = [
            await _outage_as_value(
                index.apply(
                    board,
                    period,
                    player_id,
                    stored.score,
                    stored.reached_seq,
                    changed=stored.changed,
                    country=stored.country,
                )
            )
        ]
    else:
        changes = [
            SpanChange(view, row.period, row.score, row.reached_seq, row.changed)
            for view, row in zip(views, rows, strict=True)
        ]
        outcomes = await index.apply_spans(changes, player_id, country=stored.country)
    answers: dict[str, SpanResult] = {}
    lost: BaseException | None = None
    for view, row, outcome in zip(views, rows, outcomes, strict=True):
        if isinstance(outcome, REDIS_OUTAGE_ERRORS):
            # Committed in Postgres, not yet in the index: keep trying in the background,
            # and tell the client not to submit again.
            index.apply_later(view, row.period, player_id)
            lost = lost or outcome
            continue
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome.published:
            BUFFER.counter(EVENTS_PUBLISHED).inc()
        answers[view.span] = span_result(
            row.period, row.score, changed=row.changed, inserted=row.inserted, change=outcome
        )
    if lost is not None:
        assert isinstance(lost, Exception)
        raise DependencyUnavailableError(
            "redis",
            f"the score was recorded, but its rank cannot be read now ({outage_reason(lost)})",
        ) from lost
    return answers


async def _outage_as_value(call: Awaitable[IndexChange]) -> IndexChange | BaseException:
    try:
        return await call
    except REDIS_OUTAGE_ERRORS as exc:
        return exc
