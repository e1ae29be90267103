"""What a submission must meet before it is counted: the board's rules, one body per key."""

from __future__ import annotations

from datetime import datetime

from leaderboard.boards.models import Board
from leaderboard.lib.errors import (
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
    UnprocessableError,
)


def check_rules(board: Board, score: int, actor: str | None, now: datetime) -> None:
    """The board's rules a submission must meet before it is counted."""
    if actor is None and not board.client_submissions:
        raise PermissionDeniedError(
            "this leaderboard takes scores from game servers only (a server key or the admin)"
        )
    if board.min_score is not None and score < board.min_score:
        raise InvalidInputError("score", f"must be at least {board.min_score} on this leaderboard")
    if board.max_score is not None and score > board.max_score:
        raise InvalidInputError("score", f"must be at most {board.max_score} on this leaderboard")
    if not board.is_open(now):
        when = "has not opened yet" if board.starts_at and now < board.starts_at else "has closed"
        raise ConflictError(f"the leaderboard is not open: it {when}; reads still work")


def same_request(first: str, now: str) -> None:
    if first != now:
        raise UnprocessableError(
            "Idempotency-Key: this key was used with another body; use a new key"
        )
