"""The event schema, shared by the publisher (the score script), the HTTP bridges and `watch`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec


class RankChanged(msgspec.Struct, kw_only=True):
    """Published once for every accepted submission that changed the stored score."""

    type: Literal["rank_changed"] = "rank_changed"
    leaderboard: str
    span: str
    """The span of the board whose period changed (its reset unless it has several)."""
    period: date | None
    player_id: str
    score: int
    previous_score: int | None
    rank: int
    previous_rank: int | None
    at: datetime
    id: str | None = None
    """The event's id in the board's event stream (``Last-Event-ID`` to resume from)."""


class Overtaken(msgspec.Struct, kw_only=True):
    """Published for each of the nearest players a submission moved past.

    After the mover's ``rank_changed``: ``player_id`` was passed by ``by`` and now stands
    one place lower.
    """

    type: Literal["overtaken"] = "overtaken"
    leaderboard: str
    span: str
    """The span of the board whose period changed (its reset unless it has several)."""
    period: date | None
    player_id: str
    by: str
    rank: int
    previous_rank: int
    at: datetime
    id: str | None = None


class EntryRemoved(msgspec.Struct, kw_only=True):
    """Published when the admin removes an entry (or a ban hides it).

    The ranks below it close up.
    """

    type: Literal["entry_removed"] = "entry_removed"
    leaderboard: str
    span: str
    """The span of the board whose period changed (its reset unless it has several)."""
    period: date | None
    player_id: str
    at: datetime
    id: str | None = None


class EntryRestored(msgspec.Struct, kw_only=True):
    """Published for each entry an unban brings back, where its score and sequence rank it.

    The fields of a ``rank_changed`` of a first entry (``previous_*`` always null: the
    entry was off the board), so a client may handle both alike; the players below move
    down one place, and get no event of their own.
    """

    type: Literal["entry_restored"] = "entry_restored"
    leaderboard: str
    span: str
    """The span of the board whose period changed (its reset unless it has several)."""
    period: date | None
    player_id: str
    score: int
    previous_score: None = None
    rank: int
    previous_rank: None = None
    at: datetime
    id: str | None = None


class ZoneChanged(msgspec.Struct, kw_only=True):
    """A league submission moved a player of the cohort into another zone.

    Published for the submitting player and for every other player of the cohort whose
    zone it changed (pushed out of the promotion zone, into the demotion zone …), by the
    script that applies the score (leagues/cohort_apply.lua). ``previous_zone`` is null
    for a player's first submission of the season (they just joined the cohort).
    """

    type: Literal["zone_changed"] = "zone_changed"
    league: str
    season: int
    cohort: str
    player_id: str
    zone: str
    previous_zone: str | None
    rank: int
    at: datetime
    id: str | None = None


class SeasonEnded(msgspec.Struct, kw_only=True):
    """A season closed: one for each player of it, with where it leaves them.

    ``tier`` is the tier the player played the season in, ``new_tier`` the one they play
    the next in (both by name); ``rank`` and ``zone`` are their final ones in the cohort.
    """

    type: Literal["season_ended"] = "season_ended"
    league: str
    season: int
    player_id: str
    tier: str
    new_tier: str
    rank: int
    zone: str
    at: datetime
    cohort: str
    score: int
    id: str | None = None


class Envelope(msgspec.Struct, kw_only=True):
    """What every event on a board's channel has: enough to filter and to resume."""

    type: str
    player_id: str | None = None
    id: str | None = None


Event = RankChanged | Overtaken | EntryRemoved | EntryRestored | ZoneChanged | SeasonEnded


class EventsDropped(msgspec.Struct, kw_only=True):
    """Sent to a client that read too slowly: this many older events were dropped."""

    type: Literal["events_dropped"] = "events_dropped"
    leaderboard: str
    dropped: int


class LeagueEventsDropped(msgspec.Struct, kw_only=True):
    """``events_dropped`` on a league's stream: it names the league."""

    type: Literal["events_dropped"] = "events_dropped"
    league: str
    dropped: int


def event_head(
    board_id: str,
    span: str,
    period: date | None,
    player_id: str,
    at: datetime,
    kind: Literal["rank_changed", "entry_restored"] = "rank_changed",
) -> str:
    """The constant fields of a ``kind`` event, as the start of a JSON object.

    The score script appends the score and ranks (exact integers) and closes the object.
    """
    head = {
        "type": kind,
        "leaderboard": board_id,
        "span": span,
        "period": period,
        "player_id": player_id,
        "at": at,
    }
    return msgspec.json.encode(head).decode()[:-1]


def overtaken_parts(
    board_id: str, span: str, period: date | None, mover: str, at: datetime
) -> tuple[str, str]:
    """The constant parts of a move's ``overtaken`` events, for the score script.

    The start (``{"type":"overtaken","leaderboard":…,"period":…``) and the middle
    (``"by":…,"at":…``); the script adds each passed player's id and ranks.
    """
    start = msgspec.json.encode(
        {"type": "overtaken", "leaderboard": board_id, "span": span, "period": period}
    ).decode()[:-1]
    middle = msgspec.json.encode({"by": mover, "at": at}).decode()[1:-1]
    return start, middle


def entry_removed_head(
    board_id: str, span: str, period: date | None, player_id: str, at: datetime
) -> str:
    """An entry_removed event as JSON without its closing brace (the script adds the id)."""
    event = EntryRemoved(leaderboard=board_id, span=span, period=period, player_id=player_id, at=at)
    return msgspec.json.encode(event).decode().removesuffix(',"id":null}')


def stream_id_key(stream_id: str) -> tuple[int, int]:
    """Stream ids ("<ms>-<seq>") as numbers, so that they compare in stream order."""
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def event_from_stream(entry_id: str, fields: dict[str, str]) -> str:
    """A stream entry as the JSON pub/sub carries: the stored event plus its ``id``."""
    return fields["event"][:-1] + f',"id":"{entry_id}"}}'
