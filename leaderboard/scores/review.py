"""Which player submissions a board holds for review (board field ``review``).

``all`` holds every player submission; ``rules`` holds one that would change the stored
score by more than ``review_jump`` in the board's better direction (never a first entry),
or that would rank the player within the top ``review_top`` (a first entry too, and a
player already there). Submissions by the admin or a server key are never held: the
caller (service.py) asks only for a player's own. The index answers the rank question
(two reads, on boards with ``review_top`` only); a race with another submission may make
the answer one rank off, which a review rule tolerates.
"""

from __future__ import annotations

from datetime import date

from leaderboard.boards.models import Board
from leaderboard.ranking.index import RankIndex


def stored_after(board: Board, current: int | None, submitted: int) -> int:
    """The stored score the board's operator would make of ``submitted``."""
    if current is None or board.operator == "latest":
        return submitted
    if board.operator == "sum":
        return current + submitted
    return max(current, submitted) if board.order == "desc" else min(current, submitted)


def better(board: Board, a: int, b: int) -> bool:
    """Whether score ``a`` ranks above score ``b`` on this board."""
    return a > b if board.order == "desc" else a < b


class ReviewRules:
    def __init__(self, index: RankIndex) -> None:
        self._index = index

    async def holds(self, board: Board, period: date, player_id: str, submitted: int) -> bool:
        """Whether the player's own submission waits for a decision."""
        if board.review == "all":
            return True
        if board.review != "rules":
            return False
        place = board.review_top or 1
        own, ranked = await self._index.standing(board, period, player_id, place)
        current = None if own is None else own[1]
        new = stored_after(board, current, submitted)
        jump = board.review_jump
        if (
            jump is not None
            and current is not None
            and better(board, new, current)
            and abs(new - current) > jump
        ):
            return True
        if board.review_top is None:
            return False
        # The place-th best of the others: one further down when the player is above it.
        kth = ranked.get(place + 1 if own is not None and own[0] <= place else place)
        return kth is None or better(board, new, kth[1])
