"""A submission as the ledger keeps it, and the bodies of the decisions on it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from leaderboard.lib.validation import NO_CONTROLS

Status = Literal["accepted", "pending", "approved", "rejected", "voided"]
Reason = Annotated[str, Meta(min_length=1, max_length=500, pattern=NO_CONTROLS)]


class SubmissionView(msgspec.Struct, kw_only=True):
    id: int
    leaderboard: str
    period: date | None
    """The period it was submitted in (null on boards that never reset)."""
    player_id: str
    score: int
    """The submitted value (the board's operator makes the stored score of it)."""
    status: Status
    submitted_at: datetime
    decided_at: datetime | None
    """When it was approved, rejected or voided."""
    reason: str | None
    """Why it was rejected or voided."""
    evidence_url: str | None
    metadata: dict[str, Any] | None


class SubmissionList(msgspec.Struct, kw_only=True):
    submissions: list[SubmissionView]


class Decision(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A rejection's or a void's body."""

    reason: Reason
    """Shown to the player in their list of submissions, and kept in the audit log."""
