"""What a read asks for beyond the period, and the numbers derived from a rank.

The rank style (``?ranks=``), the country (``?country=``), the percentile and ``to_next``;
shared by the ranked reads and history.
"""

from __future__ import annotations

from leaderboard.boards.models import RANK_STYLES, Board, RankStyle
from leaderboard.lib.errors import InvalidInputError


def percentile(rank: int, total: int) -> float:
    """The share of the other entries ranked below ``rank``, 0-100 (100 when alone)."""
    if total <= 1:
        return 100.0
    return round(100 * (total - rank) / (total - 1), 2)


def rank_style(board: Board, ranks: str | None) -> RankStyle:
    """``?ranks=``: the board's style when absent; 400 naming ``ranks`` for another value."""
    if ranks is None:
        return board.ranks
    for style in RANK_STYLES:
        if ranks == style:
            return style
    raise InvalidInputError("ranks", "must be one of ordinal, competition, dense")


def segment_of(board: Board, country: str | None) -> str | None:
    """``?country=`` as an index's country (upper case); None when absent.

    400 naming ``country`` for a board without the segment, or a value that is not an
    ISO 3166-1 alpha-2 code (any case).
    """
    if country is None:
        return None
    if "country" not in board.segments:
        raise InvalidInputError("country", "this board has no country segment")
    if len(country) != 2 or not country.isascii() or not country.isalpha():
        raise InvalidInputError("country", "must be an ISO 3166-1 alpha-2 code, like DE")
    return country.upper()


def points_to_next(
    score: int, above: int | None, better: int | None, style: RankStyle
) -> int | None:
    """``to_next``: the points that improve the player's rank; None at the top.

    Ordinal: to pass the entry just above (ties go to who reached the score first).
    Competition and dense: to equal the next better score (a tie shares the rank).
    """
    if style == "ordinal":
        return None if above is None else abs(above - score) + 1
    return None if better is None else abs(better - score)
