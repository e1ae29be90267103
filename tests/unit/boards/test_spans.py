"""A board's spans: its views, their keys, and where a held submission's day falls."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from leaderboard.boards.models import Board, RateLimitConfig
from leaderboard.boards.periods import day_within, span_of, span_period_key
from leaderboard.lib.errors import InvalidInputError


def board(**fields: object) -> Board:
    return Board(
        id="b",
        name="b",
        order="desc",
        operator="best",
        reset="daily",
        rate_limit=RateLimitConfig(),
        metadata={},
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        **fields,  # type: ignore[arg-type]
    )


def test_a_board_of_one_span_is_its_own_view() -> None:
    plain = board()
    assert plain.spans == ["daily"]
    assert plain.views() == [plain]
    assert span_of(plain, None) is plain
    assert span_of(plain, "daily") is plain
    assert span_period_key(plain, date(2026, 11, 30)) == "2026-11-30"


def test_each_span_is_a_view_with_its_own_keys() -> None:
    spans = board(spans=["daily", "weekly", "never"])
    weekly, never = spans.view("weekly"), spans.view("never")
    assert [v.span for v in spans.views()] == ["daily", "weekly", "never"]
    assert [v.span_no for v in spans.views()] == [0, 1, 2]
    assert (weekly.reset, weekly.id, weekly.spans) == ("weekly", "b", spans.spans)
    assert span_of(spans, "never") == never
    # A Monday starts a daily and a weekly period: their keys differ.
    assert span_period_key(spans, date(2026, 11, 30)) == "2026-11-30"
    assert span_period_key(weekly, date(2026, 11, 30)) == "weekly.2026-11-30"
    assert span_period_key(never, date(1970, 1, 1)) == "never.all"
    assert weekly.view_of(0) == spans


def test_a_span_the_board_lacks_is_a_400_naming_span() -> None:
    with pytest.raises(InvalidInputError) as refused:
        span_of(board(spans=["daily", "never"]), "weekly")
    assert refused.value.field == "span"


@pytest.mark.parametrize(
    ("reset", "start", "moment", "day"),
    [
        ("daily", date(2026, 3, 1), datetime(2026, 3, 1, 23, 59, tzinfo=UTC), date(2026, 3, 1)),
        ("daily", date(2026, 3, 1), datetime(2026, 3, 2, 0, 1, tzinfo=UTC), date(2026, 3, 1)),
        ("weekly", date(2026, 11, 30), datetime(2026, 12, 2, tzinfo=UTC), date(2026, 12, 2)),
        ("weekly", date(2026, 11, 30), datetime(2026, 12, 9, tzinfo=UTC), date(2026, 12, 6)),
        ("monthly", date(2024, 2, 1), datetime(2024, 3, 5, tzinfo=UTC), date(2024, 2, 29)),
        ("monthly", date(2024, 2, 1), datetime(2024, 1, 5, tzinfo=UTC), date(2024, 2, 1)),
    ],
)
def test_a_held_submission_s_day_stays_in_its_period(
    reset: str, start: date, moment: datetime, day: date
) -> None:
    assert day_within(reset, start, moment) == day  # type: ignore[arg-type]
