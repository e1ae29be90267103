"""Leaderboard periods: which index a moment or a ``?period=`` belongs to (UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from leaderboard.boards.models import Board, Reset
from leaderboard.lib.errors import InvalidInputError

# Boards that never reset keep all their scores under this one "period".
ALL_TIME = date(1970, 1, 1)


def period_start(reset: Reset, day: date) -> date:
    """The first day of the period containing ``day`` (weeks start on Monday)."""
    if reset == "never":
        return ALL_TIME
    if reset == "daily":
        return day
    if reset == "weekly":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_end(reset: Reset, start: date) -> date | None:
    """The first day after the period starting on ``start``; None for never."""
    if reset == "never":
        return None
    if reset == "daily":
        return start + timedelta(days=1)
    if reset == "weekly":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def resolve_period(reset: Reset, requested: str | None, now: datetime) -> date:
    """``current`` (default), ``previous`` or any ``YYYY-MM-DD`` inside the wanted period."""
    today = now.astimezone(UTC).date()
    current = period_start(reset, today)
    if requested in (None, "", "current"):
        return current
    if reset == "never":
        raise InvalidInputError("period", "this leaderboard never resets: only 'current'")
    if requested == "previous":
        return period_start(reset, current - timedelta(days=1))
    try:
        day = date.fromisoformat(requested)
    except ValueError:
        raise InvalidInputError(
            "period", "expected 'current', 'previous' or a date YYYY-MM-DD"
        ) from None
    start = period_start(reset, day)
    if start > current:
        raise InvalidInputError("period", "that period has not started yet")
    return start


def oldest_kept(board: Board, today: date) -> date | None:
    """The first day of the oldest period ``board`` keeps; None when it keeps them all."""
    if board.keep_periods is None or board.reset == "never":
        return None
    start = period_start(board.reset, today)
    for _ in range(board.keep_periods - 1):
        start = period_start(board.reset, start - timedelta(days=1))
    return start


def public_period(start: date) -> date | None:
    """The ``period`` field of responses: null for boards that never reset."""
    return None if start == ALL_TIME else start


def period_key(start: date) -> str:
    """The period's part of a Redis key."""
    return "all" if start == ALL_TIME else start.isoformat()


def span_period_key(board: Board, start: date) -> str:
    """The period's part of a Redis key, for the span ``board`` ranks (a view's).

    The primary span's keys are ``period_key``'s (a board with one span is as it always
    was); a secondary span's carry its name: a weekly period and a daily one may start on
    the same day (``weekly.2026-11-30``, ``never.all``).
    """
    key = period_key(start)
    return key if board.span_no == 0 else f"{board.span}.{key}"


def span_of(board: Board, span: str | None) -> Board:
    """``?span=``: the board as that span ranks it (a view); the primary when absent.

    400 naming ``span`` for a value that is not one of the board's spans.
    """
    if span is None or span == board.reset:
        return board
    for name in board.spans:
        if span == name:
            return board.view(name)
    raise InvalidInputError("span", f"must be one of this board's spans: {', '.join(board.spans)}")


def day_within(reset: Reset, start: date, moment: datetime) -> date:
    """The day of ``moment`` (UTC), kept inside the period of ``reset`` starting on ``start``.

    Where a held submission falls in a board's other spans: its own period is the record
    (it was decided on the service's clock); the day inside it is its submission's.
    """
    day = max(moment.astimezone(UTC).date(), start)
    end = period_end(reset, start)
    return day if end is None or day < end else end - timedelta(days=1)
