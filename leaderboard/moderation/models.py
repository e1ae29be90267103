"""Request bodies and events of the moderation endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta


class BanRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=500)] | None = None
    """Why, for the audit log and other moderators; never shown to players."""


class EntryRemoved(msgspec.Struct, kw_only=True):
    """Published when the admin removes one entry; the ranks below it close up."""

    type: Literal["entry_removed"] = "entry_removed"
    leaderboard: str
    period: date | None
    player_id: str
    at: datetime
    id: str | None = None
    """The event's id in the board's event stream (``Last-Event-ID`` to resume from)."""


def entry_removed_head(board_id: str, period: date | None, player_id: str, at: datetime) -> str:
    """The event as JSON without its closing brace: the index script adds the stream id."""
    event = EntryRemoved(leaderboard=board_id, period=period, player_id=player_id, at=at)
    return msgspec.json.encode(event).decode().removesuffix(',"id":null}')
