"""The audit log's entries, as ``GET /v1/audit`` returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


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
