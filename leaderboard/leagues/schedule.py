"""When seasons start and end.

At 00:00 UTC, as board periods do (weeks on Monday, months on the 1st); an early end
starts the next season at once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from leaderboard.boards.periods import period_end, period_start
from leaderboard.leagues.models import Schedule


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def season_around(schedule: Schedule, moment: datetime) -> tuple[datetime, datetime]:
    """The (start, end) of the schedule's period containing ``moment``."""
    start = period_start(schedule, moment.astimezone(UTC).date())
    end = period_end(schedule, start)
    assert end is not None  # leagues always reset
    return _midnight(start), _midnight(end)


def next_season(schedule: Schedule, now: datetime, *, early: bool) -> tuple[datetime, datetime]:
    """The (start, end) of the season after one that closes ``now``.

    Early (the admin ended it): it starts now and ends at the next boundary. At its
    scheduled end: the period that contains now (the one right after, unless the service
    was down for longer than a season: no empty seasons are made up for the gap).
    """
    start, end = season_around(schedule, now)
    return (now, end) if early else (start, end)
