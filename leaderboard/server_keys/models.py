"""Request and response bodies of ``/v1/server-keys``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from leaderboard.boards.models import BoardId
from leaderboard.lib.validation import NO_CONTROLS


class ServerKeyCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[
        str,
        Meta(min_length=1, max_length=128, pattern=NO_CONTROLS),
    ]
    """What the key is for (a game server, a region), shown in the list and the audit log."""
    leaderboards: Annotated[list[BoardId], Meta(min_length=1, max_length=1000)] | None = None
    """The boards it may submit to; absent or null: every board."""


class ServerKey(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    name: str
    leaderboards: list[str] | None
    created_at: datetime
    key: str | None = None
    """The bearer key itself: in the answer to its creation only, never again."""


class ServerKeyList(msgspec.Struct, kw_only=True):
    server_keys: list[ServerKey]
