"""Where and how the index announces a change: the one place that addresses events.

Every script that publishes is handed an :class:`~leaderboard.ranking.values.EventTarget`
made here: the board's channel and capped stream (lib/keys.py), pub/sub's flavour, and
the event's constant part (events/models.py), so the scripts only add what they compute
(scores, ranks, the stream id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from leaderboard.boards.models import Board
from leaderboard.boards.periods import public_period
from leaderboard.events.models import entry_removed_head, event_head, overtaken_parts
from leaderboard.lib.clock import Clock
from leaderboard.lib.keys import Keys
from leaderboard.ranking.values import EventTarget


@dataclass(frozen=True, slots=True)
class EventSettings:
    """How changes are announced: the stream's length, and pub/sub's flavour."""

    stream_length: int = 1000
    sharded_pubsub: bool = False
    """SPUBLISH (a Redis Cluster) instead of PUBLISH."""


class Announcements:
    def __init__(self, keys: Keys, settings: EventSettings, clock: Clock) -> None:
        self._keys = keys
        self._settings = settings
        self._clock = clock

    def changed(self, board: Board, period: date, player_id: str) -> EventTarget:
        """A ``rank_changed`` event, and ``overtaken`` ones for the players passed."""
        now, public = self._clock(), public_period(period)
        return self._target(
            board,
            event_head(board.id, board.span, public, player_id, now),
            overtake=board.overtake_events,
            overtaken=overtaken_parts(board.id, board.span, public, player_id, now),
        )

    def restored(self, board: Board, period: date, player_id: str) -> EventTarget:
        """An ``entry_restored`` event (an unban put the entry back)."""
        head = event_head(
            board.id, board.span, public_period(period), player_id, self._clock(), "entry_restored"
        )
        return self._target(board, head)

    def removed(self, board: Board, period: date, player_id: str) -> EventTarget:
        """An ``entry_removed`` event."""
        head = entry_removed_head(
            board.id, board.span, public_period(period), player_id, self._clock()
        )
        return self._target(board, head)

    def _target(
        self, board: Board, head: str, *, overtake: int = 0, overtaken: tuple[str, str] = ("", "")
    ) -> EventTarget:
        return EventTarget(
            channel=self._keys.events_channel(board.id),
            stream=self._keys.events_stream(board.id),
            head=head,
            stream_length=self._settings.stream_length,
            publish_command="SPUBLISH" if self._settings.sharded_pubsub else "PUBLISH",
            overtake=overtake,
            overtaken_head=overtaken[0],
            overtaken_middle=overtaken[1],
        )
