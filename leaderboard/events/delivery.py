"""What one event client receives: missed events first (on resume), then live ones.

Shared by the SSE and WebSocket bridges (bridge.py, websocket.py) of every topic (a
board's events, a league's): both filter by ``player_id`` and send an event once, however
it arrived (replayed from the topic's stream, or live from the hub).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import msgspec

from leaderboard.events.hub import HEARTBEAT_SECONDS
from leaderboard.events.models import (
    Envelope,
    EventsDropped,
    LeagueEventsDropped,
    stream_id_key,
)
from leaderboard.events.subscription import Subscription
from leaderboard.events.topics import Topic
from leaderboard.lib.errors import NotFoundError
from leaderboard.lib.ids import canonical_player_id

# An event's id in its topic's stream: what a client passes back to resume.
STREAM_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")


def canonical_or_none(player_id: str | None) -> str | None:
    """The filter's player id in canonical form (a malformed one matches nobody)."""
    if player_id is None:
        return None
    try:
        return canonical_player_id(player_id)
    except NotFoundError:
        return player_id


def dropped_notice(topic: Topic, dropped: int) -> EventsDropped | LeagueEventsDropped:
    """``events_dropped`` naming what the client follows (a board, or a league)."""
    if topic.kind == "league":
        return LeagueEventsDropped(league=topic.id, dropped=dropped)
    return EventsDropped(leaderboard=topic.id, dropped=dropped)


@functools.lru_cache(maxsize=4096)
def envelope_of(message: str) -> Envelope:
    """An event's envelope, decoded once for every subscriber it goes to."""
    return msgspec.json.decode(message, type=Envelope)


class Delivery:
    """What one client receives: missed events first (on resume), then live ones, filtered."""

    def __init__(self, subscription: Subscription, player_id: str | None) -> None:
        self._subscription = subscription
        self._player_id = player_id
        self.last_id: tuple[int, int] | None = None

    @property
    def topic(self) -> Topic:
        return self._subscription.topic

    def accept(self, message: str) -> Envelope | None:
        """The event, unless filtered out or already sent (replayed from the stream).

        Any type of event (``rank_changed``, ``zone_changed`` … and types added later);
        ``player_id`` keeps those about that player.
        """
        event = envelope_of(message)
        if event.id is not None:
            key = stream_id_key(event.id)
            if self.last_id is not None and key <= self.last_id:
                return None
            self.last_id = key
        if self._player_id is not None and event.player_id != self._player_id:
            return None
        return event

    def go_direct(self, write: Callable[[str], bool]) -> bool:
        """Have the hub write this client's next events itself (no task wakes per event).

        Only for a client that receives every event and is caught up (nothing queued, no
        drop to report); until ``write`` refuses a message, which then queues as before.
        """
        subscription = self._subscription
        if self._player_id is not None or subscription.pending or subscription.dropped:
            return False
        subscription.direct = write
        return True

    def take_ready(self) -> list[str]:
        """The messages queued now that this client is to receive, without waiting.

        Empty when a drop notice is due: :meth:`next` sends it first.
        """
        ready: list[str] = []
        subscription = self._subscription
        while subscription.pending and not subscription.dropped:
            message = subscription.take()
            if self.accept(message) is not None:
                ready.append(message)
        return ready

    async def next(self) -> tuple[str, Envelope | EventsDropped | LeagueEventsDropped | None]:
        """The next message to send: (json, event), or ("", None) for a heartbeat."""
        while True:
            message = await self._subscription.next(HEARTBEAT_SECONDS)
            dropped = self._subscription.take_dropped()
            if dropped:
                notice = dropped_notice(self.topic, dropped)
                if message is not None:
                    self._subscription.push_front(message)
                return msgspec.json.encode(notice).decode(), notice
            if message is None:
                return "", None
            event = self.accept(message)
            if event is not None:
                return message, event
