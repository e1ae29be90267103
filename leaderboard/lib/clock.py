"""What time it is, as one injectable function.

The service reads the time for periods, board windows and events through a ``Clock``.
``started_at`` makes one that starts at a chosen moment and runs forward at the real
pace: ``LEADERBOARD_CLOCK_START`` rehearses a reset or a board's end in staging, and the
tests run on the calendar days that matter (month and year ends, 29 February) whatever
day they run on. Redis keeps time on its own clock; the service only hands it durations
(TTLs), never moments, so the two never disagree about when something expires.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class MovableClock:
    """A clock that starts at ``start`` and runs at the real pace; it can be moved."""

    def __init__(self, start: datetime) -> None:
        self._origin = time.monotonic()
        self._start = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)

    def set(self, moment: datetime) -> None:
        """From now on the clock reads ``moment``, and runs on from there."""
        self._origin = time.monotonic()
        self._start = moment.astimezone(UTC)

    def advance(self, by: timedelta) -> None:
        self.set(self() + by)


def started_at(start: datetime | None) -> Clock:
    """The system clock, or one that starts at ``start`` (see the module doc)."""
    return system_clock if start is None else MovableClock(start)
