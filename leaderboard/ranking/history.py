"""A player's history on a board: their rank in each period, the final one once it ended.

Ended periods come frozen from Postgres (results.py): one query, whatever their number.
The current period, and one that ended a moment ago and is not frozen yet, come live from
the index (one read each).
"""

from __future__ import annotations

from leaderboard.boards.models import Board, RankStyle
from leaderboard.boards.periods import public_period
from leaderboard.boards.service import BoardService
from leaderboard.lib.ids import canonical_player_id
from leaderboard.ranking.index import RankIndex
from leaderboard.ranking.models import BestRank, History, PeriodStanding
from leaderboard.ranking.results import PeriodResults, PeriodRow
from leaderboard.ranking.values import ReadView
from leaderboard.ranking.views import percentile, rank_style


class PlayerHistory:
    def __init__(self, *, boards: BoardService, index: RankIndex, results: PeriodResults) -> None:
        self._boards = boards
        self._index = index
        self._results = results

    async def history(
        self, board_id: str, player_id: str, limit: int, ranks: str | None = None
    ) -> History:
        board = await self._boards.get(board_id)
        player_id = canonical_player_id(player_id)
        style = rank_style(board, ranks)
        rows = await self._results.history(board, player_id, limit, style)
        periods: list[PeriodStanding] = []
        best = rows.best
        for row in rows.periods:
            standing = await self._standing(board, player_id, row, style)
            if standing is None:
                continue
            periods.append(standing)
            if row.rank is None and (
                best is None
                or (standing.rank, row.period) < (best[1], best[0])
                or (standing.rank == best[1] and row.period > best[0])
            ):
                best = (row.period, standing.rank)  # live: the current period, or just ended
        return History(
            leaderboard=board.id,
            span=board.reset,
            player_id=player_id,
            periods=periods,
            best=None if best is None else BestRank(period=public_period(best[0]), rank=best[1]),
        )

    async def _standing(
        self, board: Board, player_id: str, row: PeriodRow, style: RankStyle
    ) -> PeriodStanding | None:
        if row.rank is not None and row.position is not None and row.total is not None:
            rank, position, total = row.rank, row.position, row.total
        else:
            if self._index.holds_nothing(board, row.period):
                return None
            page = await self._index.read(
                board,
                row.period,
                lambda scripts, keys: scripts.entry(
                    keys, board.order, player_id, ReadView(ranks=style)
                ),
            )
            if page.player_rank is None:
                return None  # gone from the index meanwhile (removed, banned)
            rank, position, total = page.shown_ranks()[-1], page.player_rank, page.total
        return PeriodStanding(
            period=public_period(row.period),
            score=row.score,
            rank=rank,
            total=total,
            percentile=percentile(position, total),
        )
