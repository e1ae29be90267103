"""The calendar days tests run on, whatever day it is.

No test reads today's date: the service under test gets a ``MovableClock`` that starts on
a fixed day (``clock`` fixture, tests/conftest.py). By default that day is ``ORDINARY_DAY``,
in the middle of a week, a month and a year, so no period boundary is near. A test whose
outcome depends on where a day falls — periods, weeks, months, retention windows, board
windows — is marked ``@pytest.mark.calendar`` and runs once on each of ``DAYS_THAT_MATTER``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

ORDINARY_DAY = date(2026, 6, 17)  # a Wednesday

DAYS_THAT_MATTER = [
    pytest.param(date(2024, 2, 29), id="2024-02-29-leap-day"),
    pytest.param(date(2025, 12, 31), id="2025-12-31-year-end"),
    pytest.param(date(2026, 1, 1), id="2026-01-01-year-start"),
    pytest.param(date(2026, 3, 1), id="2026-03-01-sunday-month-start"),
    pytest.param(date(2026, 11, 30), id="2026-11-30-monday-month-end"),
]


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), UTC)


def at(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), UTC)
