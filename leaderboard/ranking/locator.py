"""Where a board period's index lives in Redis, and how long it lives there."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from leaderboard.boards.models import Board
from leaderboard.boards.periods import period_end, period_key
from leaderboard.lib.clock import Clock
from leaderboard.lib.keys import IndexKeys, Keys

# A periodic board's index lives on this long after its period ends; a past period
# rebuilt on demand lives at least this long.
PERIOD_RETENTION = timedelta(days=7)
REBUILT_PAST_PERIOD_TTL = timedelta(hours=1)


class IndexLocator:
    def __init__(self, keys: Keys, clock: Clock) -> None:
        self._keys = keys
        self._clock = clock

    def keys(self, board: Board, period: date, country: str | None = None) -> IndexKeys:
        """The period's index; ``country``: that country's segment of it."""
        return self._keys.index(board.id, period_key(period), country)

    def ttl_ms(self, board: Board, period: date) -> int:
        """How long a period's index keys live from now, in ms (0: boards that never reset).

        A time to live, not a moment: Redis counts it on its own clock from the call, so
        the expiry follows this service's clock (injected in tests) wherever Redis' is.
        """
        end = period_end(board.reset, period)
        if end is None:
            return 0
        now = self._clock()
        expires = datetime.combine(end, time(), UTC) + PERIOD_RETENTION
        return int(max(expires - now, REBUILT_PAST_PERIOD_TTL).total_seconds() * 1000)
