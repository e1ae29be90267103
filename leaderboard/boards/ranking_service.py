"""The ranked reads: a page of the top, a player's entry, the entries around a player."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date

from leaderboard.boards.board_service import BoardService
from leaderboard.boards.index_locator import IndexLocator
from leaderboard.boards.models import Board, Entry, Page, PlayerEntry
from leaderboard.boards.page_cache import TopPageCache
from leaderboard.boards.periods import period_start, public_period, resolve_period
from leaderboard.boards.rank_index import IndexNotReadyError, RankIndex, Slice
from leaderboard.boards.rebuild import Rebuilder
from leaderboard.lib.errors import NotFoundError
from leaderboard.lib.keys import IndexKeys
from leaderboard.players.ids import canonical_player_id
from leaderboard.players.service import PlayerService


class RankingService:
    def __init__(
        self,
        *,
        boards: BoardService,
        index: RankIndex,
        rebuilder: Rebuilder,
        locator: IndexLocator,
        players: PlayerService,
        top_pages: TopPageCache,
    ) -> None:
        self._boards = boards
        self._index = index
        self._rebuilder = rebuilder
        self._locator = locator
        self._players = players
        self._top_pages = top_pages

    async def top(self, board_id: str, period: str | None, offset: int, limit: int) -> Page:
        board = await self._boards.get(board_id)
        start = self._read_period(board, period)
        cached = self._top_pages.get(board.id, (start, offset, limit))
        if cached is not None:
            return cached
        read_at = self._top_pages.version(board.id)
        page = await self._read(
            board, start, lambda keys: self._index.top(keys, board.order, offset, limit)
        )
        result = Page(
            leaderboard=board.id,
            period=public_period(start),
            total=page.total,
            entries=await self._entries(page),
        )
        self._top_pages.put(board.id, (start, offset, limit), result, read_at)
        return result

    async def around(self, board_id: str, player_id: str, period: str | None, radius: int) -> Page:
        board, start, page = await self._around(board_id, player_id, period, radius)
        return Page(
            leaderboard=board.id,
            period=public_period(start),
            total=page.total,
            entries=await self._entries(page),
        )

    async def entry(self, board_id: str, player_id: str, period: str | None) -> PlayerEntry:
        board, start, page = await self._around(board_id, player_id, period, 0)
        (entry,) = await self._entries(page)
        return PlayerEntry(
            player_id=entry.player_id,
            display_name=entry.display_name,
            score=entry.score,
            rank=entry.rank,
            total=page.total,
            leaderboard=board.id,
            period=public_period(start),
        )

    def _read_period(self, board: Board, period: str | None) -> date:
        return resolve_period(board.reset, period, self._locator.now())

    async def _read(
        self, board: Board, start: date, read: Callable[[IndexKeys], Awaitable[Slice]]
    ) -> Slice:
        """Read a period's index, rebuilding it first when it is missing."""
        if start < period_start(board.reset, board.created_at.astimezone(UTC).date()):
            # Nothing was recorded before the board existed: no index to build or read
            # (every such date would otherwise cost a rebuild and a key).
            return Slice(total=0, first_rank=1, entries=[])
        keys = self._locator.keys(board, start)
        try:
            return await read(keys)
        except IndexNotReadyError:
            await self._rebuilder.ensure_ready(board, start)
            self._top_pages.drop_board(board.id)
            return await read(keys)

    async def _around(
        self, board_id: str, player_id: str, period: str | None, radius: int
    ) -> tuple[Board, date, Slice]:
        player_id = canonical_player_id(player_id)
        board = await self._boards.get(board_id)
        start = self._read_period(board, period)
        page = await self._read(
            board, start, lambda keys: self._index.around(keys, board.order, player_id, radius)
        )
        if page.player_rank is None:
            raise NotFoundError(f"player {player_id!r} has no entry on {board.id!r}")
        return board, start, page

    async def _entries(self, page: Slice) -> list[Entry]:
        names = await self._players.display_names([player for player, _ in page.entries])
        return [
            Entry(
                rank=page.first_rank + i,
                player_id=player,
                display_name=names.get(player),
                score=score,
            )
            for i, (player, score) in enumerate(page.entries)
        ]
