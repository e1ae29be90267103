"""Bodies of a score submission and its answer."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from leaderboard.boards.models import Score


class ScoreSubmission(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    score: Score
    metadata: dict[str, Any] | None = None
    player_id: str | None = None
    """With the admin token or a server key: the player the score is for."""


class SubmitResult(msgspec.Struct, kw_only=True):
    player_id: str
    score: int
    rank: int
    previous_rank: int | None
    previous_score: int | None
    changed: bool
    leaderboard: str
    period: date | None
