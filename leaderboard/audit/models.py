"""The audit log's entries, as ``GET /v1/audit`` returns them, and its filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

import msgspec

AuditAction = Literal[
    "leaderboard.create",
    "leaderboard.update",
    "leaderboard.delete",
    "server_key.create",
    "server_key.revoke",
    "entry.remove",
    "player.ban",
    "player.unban",
    "player.create",
    "player.update",
    "player.delete",
    "score.submit",
    "submission.approve",
    "submission.reject",
    "submission.void",
    "league.create",
    "league.delete",
    "league.season_end",
]
"""Every kind of audited write (``score.submit`` is written by the score statement's SQL)."""
AUDIT_ACTIONS: tuple[str, ...] = get_args(AuditAction)


class AuditEntry(msgspec.Struct, kw_only=True):
    id: int
    """Grows with every entry: ``?before=<id>`` pages further back."""
    at: datetime
    actor: str
    """``admin`` or ``server-key:<id>``."""
    action: str
    """What was done, e.g. ``leaderboard.create``, ``score.submit``, ``player.ban``."""
    target: str
    """What it was done to, e.g. ``leaderboard:weekly``, ``player:<id>``."""
    request_id: str | None
    details: dict[str, Any]


class AuditPage(msgspec.Struct, kw_only=True):
    entries: list[AuditEntry]
    next_before: int | None
    """Pass as ``before`` for the next (older) page; null when there is none."""


class AuditFilter(msgspec.Struct, kw_only=True, frozen=True):
    """Which entries ``GET /v1/audit`` lists: all of these that are set must hold."""

    action: AuditAction | None = None
    actor: str | None = None
    """``admin`` or ``server-key:<id>``."""
    leaderboard: str | None = None
    """Entries about this board or about something on it (an entry, a submission)."""
    before: int | None = None
    """Only entries older than this id (the previous page's ``next_before``)."""
