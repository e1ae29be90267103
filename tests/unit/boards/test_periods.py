"""Which period a day belongs to, on the days where calendars go wrong (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from leaderboard.boards.models import Reset
from leaderboard.boards.periods import (
    ALL_TIME,
    period_end,
    period_key,
    period_start,
    public_period,
    resolve_period,
)
from leaderboard.lib.errors import InvalidInputError

D = date.fromisoformat

# day: the daily, weekly and monthly periods it falls in, as "start/end" (end: the first
# day after the period).
EXPECTED = {
    "2024-02-28": ("2024-02-28/2024-02-29", "2024-02-26/2024-03-04", "2024-02-01/2024-03-01"),
    "2024-02-29": ("2024-02-29/2024-03-01", "2024-02-26/2024-03-04", "2024-02-01/2024-03-01"),
    "2025-02-28": ("2025-02-28/2025-03-01", "2025-02-24/2025-03-03", "2025-02-01/2025-03-01"),
    "2025-12-31": ("2025-12-31/2026-01-01", "2025-12-29/2026-01-05", "2025-12-01/2026-01-01"),
    "2026-01-01": ("2026-01-01/2026-01-02", "2025-12-29/2026-01-05", "2026-01-01/2026-02-01"),
    "2026-03-01": ("2026-03-01/2026-03-02", "2026-02-23/2026-03-02", "2026-03-01/2026-04-01"),
    "2026-11-30": ("2026-11-30/2026-12-01", "2026-11-30/2026-12-07", "2026-11-01/2026-12-01"),
    "2026-12-06": ("2026-12-06/2026-12-07", "2026-11-30/2026-12-07", "2026-12-01/2027-01-01"),
}
RESETS: tuple[Reset, ...] = ("daily", "weekly", "monthly")


@pytest.mark.parametrize("day", sorted(EXPECTED))
def test_period_start_and_end(day: str) -> None:
    for reset, period in zip(RESETS, EXPECTED[day], strict=True):
        start, end = period.split("/")
        assert period_start(reset, D(day)) == D(start), reset
        assert period_end(reset, D(start)) == D(end), reset
    assert period_start("never", D(day)) == ALL_TIME
    assert period_end("never", ALL_TIME) is None


@pytest.mark.parametrize("day", sorted(EXPECTED))
def test_previous_is_the_period_before_the_current_one(day: str) -> None:
    now = datetime.combine(D(day), datetime.min.time(), UTC)  # 00:00: the first second
    for reset in RESETS:
        current = period_start(reset, D(day))
        previous = resolve_period(reset, "previous", now)
        assert period_end(reset, previous) == current, reset
        assert resolve_period(reset, None, now) == resolve_period(reset, "current", now) == current


def test_a_date_resolves_to_its_period_and_the_future_is_refused() -> None:
    now = datetime(2024, 3, 1, 0, 0, 1, tzinfo=UTC)
    assert resolve_period("monthly", "previous", now) == D("2024-02-01")
    assert resolve_period("weekly", "2024-02-29", now) == D("2024-02-26")
    assert resolve_period("weekly", "2024-03-01", now) == D("2024-02-26")
    assert resolve_period("daily", "2024-02-29", now) == D("2024-02-29")
    for bad in ("yesterday", "2024-02-30", "2023-02-29", "2024-03-02", "2025-01-01"):
        with pytest.raises(InvalidInputError) as refused:
            resolve_period("daily", bad, now)
        assert refused.value.field == "period"
    with pytest.raises(InvalidInputError):
        resolve_period("never", "previous", now)


def test_a_moment_counts_in_utc_whatever_its_offset() -> None:
    # 23:30 on 31 December in New York is already 1 January in UTC.
    now = datetime(2025, 12, 31, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    assert resolve_period("daily", None, now) == D("2026-01-01")
    assert resolve_period("monthly", None, now) == D("2026-01-01")


def test_the_all_time_period_is_public_as_null() -> None:
    assert public_period(ALL_TIME) is None
    assert period_key(ALL_TIME) == "all"
    assert public_period(D("2024-02-29")) == D("2024-02-29")
    assert period_key(D("2024-02-29")) == "2024-02-29"
