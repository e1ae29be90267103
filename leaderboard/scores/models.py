"""Bodies of a score submission and its answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from leaderboard.boards.models import Score

EvidenceUrl = Annotated[
    str,
    Meta(
        max_length=512,
        pattern=r"^https?://[^\s\x00-\x1f]+\Z",
        description="An http(s) URL, at most 512 characters",
    ),
]


class ScoreSubmission(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    score: Score
    metadata: dict[str, Any] | None = None
    player_id: str | None = None
    """With the admin token or a server key: the player the score is for."""
    evidence_url: EvidenceUrl | None = None
    """Where a reviewer can check the result (a replay, a screenshot): http(s)."""


class SubmitResult(msgspec.Struct, kw_only=True):
    player_id: str
    score: int
    rank: int
    previous_rank: int | None
    previous_score: int | None
    changed: bool
    leaderboard: str
    period: date | None
    submission_id: int | None = None
    """The submission's id in the board's ledger; null on a board without one."""


class HeldResult(msgspec.Struct, kw_only=True):
    """A submission held for review (202): it counts once approved."""

    submission_id: int
    status: str
    player_id: str
    score: int
