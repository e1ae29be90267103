"""What a client subscribes to: one board's events, or one league's.

A topic names its pub/sub channel and the capped stream that keeps its last events (for
clients that resume with ``Last-Event-ID``, and for the hub's catch-up after a
reconnect). The hub, the deliveries and the HTTP bridges only ever see topics, so a new
kind of thing with events is a constructor here, not a copy of the machinery.
"""

from __future__ import annotations

from dataclasses import dataclass

from leaderboard.lib.keys import Keys

# A topic's event stream outlives its last event by a week (clients resume within minutes).
STREAM_TTL_MS = 7 * 86_400_000


@dataclass(frozen=True, slots=True)
class Topic:
    kind: str
    """``leaderboard`` or ``league``: also the field that names it in an ``events_dropped``."""
    id: str
    channel: str
    stream: str


def board_topic(keys: Keys, board_id: str) -> Topic:
    """A board's events: ``leaderboard:{<id>}:events``, kept in ``lb:{<id>}:events``."""
    return Topic(
        "leaderboard", board_id, keys.events_channel(board_id), keys.events_stream(board_id)
    )


def league_topic(keys: Keys, league_id: str) -> Topic:
    """A league's events: ``league:{<id>}:events``, kept in ``lg:{<id>}:events``."""
    return Topic(
        "league",
        league_id,
        keys.league_events_channel(league_id),
        keys.league_events_stream(league_id),
    )


def channel_patterns(keys: Keys) -> list[str]:
    """PSUBSCRIBE patterns covering every topic's channel (a single Redis node)."""
    return [keys.events_channel_pattern(), keys.league_events_channel_pattern()]
