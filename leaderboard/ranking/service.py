"""The ranked reads: a page of the top, a player's entry, the entries around a player."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from leaderboard.boards.models import Board, RankStyle
from leaderboard.boards.periods import public_period, resolve_period
from leaderboard.boards.service import BoardService
from leaderboard.lib.clock import Clock
from leaderboard.lib.errors import NotFoundError
from leaderboard.lib.ids import canonical_player_id
from leaderboard.lib.keys import IndexKeys
from leaderboard.players.service import PlayerService
from leaderboard.ranking.index import RankIndex
from leaderboard.ranking.models import Bucket, Entry, HistogramPage, Page, PlayerEntry
from leaderboard.ranking.records import ScoreRecords
from leaderboard.ranking.scripts import IndexScripts
from leaderboard.ranking.values import Histogram, ReadView, Slice
from leaderboard.ranking.views import percentile, points_to_next, rank_style, segment_of


class RankingService:
    def __init__(
        self,
        *,
        boards: BoardService,
        index: RankIndex,
        records: ScoreRecords,
        players: PlayerService,
        clock: Clock,
    ) -> None:
        self._records = records
        # Reads fetch the entries' names with them where the profiles are reachable from
        # one script (a single node); elsewhere the players' service reads them.
        self._names = players.name_keys()
        self._boards = boards
        self._index = index
        self._clock = clock
        self._players = players

    async def top(
        self,
        board_id: str,
        period: str | None,
        offset: int,
        limit: int,
        ranks: str | None = None,
        country: str | None = None,
    ) -> Page:
        board = await self._boards.get(board_id)
        start = self._read_period(board, period)
        style = rank_style(board, ranks)
        segment = segment_of(board, country)

        async def read() -> Page:
            page = await self._read(
                board,
                start,
                lambda scripts, keys: scripts.top(
                    keys, board.order, offset, limit, ReadView(self._names, style)
                ),
                segment,
            )
            return Page(
                leaderboard=board.id,
                period=public_period(start),
                total=page.total,
                entries=await self._entries(page),
            )

        return await self._index.top_page(board, (start, offset, limit, style, segment), read)

    async def around(
        self,
        board_id: str,
        player_id: str,
        period: str | None,
        radius: int,
        ranks: str | None = None,
        country: str | None = None,
    ) -> Page:
        board, start, page = await self._around(board_id, player_id, period, radius, ranks, country)
        return Page(
            leaderboard=board.id,
            period=public_period(start),
            total=page.total,
            entries=await self._entries(page),
        )

    async def entry(
        self,
        board_id: str,
        player_id: str,
        period: str | None,
        ranks: str | None = None,
        country: str | None = None,
    ) -> PlayerEntry:
        """A player's entry, with how far it is to the next rank (one index read)."""
        player_id = canonical_player_id(player_id)
        board = await self._boards.get(board_id)
        start = self._read_period(board, period)
        style = rank_style(board, ranks)
        page = await self._read(
            board,
            start,
            lambda scripts, keys: scripts.entry(
                keys, board.order, player_id, ReadView(self._names, style)
            ),
            segment_of(board, country),
        )
        if page.player_rank is None:
            raise NotFoundError(f"player {player_id!r} has no entry on {board.id!r}")
        names = await self._players.display_names(
            [player_id], cached=None if page.names is None else page.names[-1:]
        )
        _, score = page.entries[-1]
        above = page.entries[0][1] if len(page.entries) == 2 else None
        return PlayerEntry(
            player_id=player_id,
            display_name=names.get(player_id),
            score=score,
            rank=page.shown_ranks()[-1],
            total=page.total,
            leaderboard=board.id,
            period=public_period(start),
            # By position, whatever the style: the share of the entries ranked below.
            percentile=percentile(page.player_rank, page.total),
            to_next=points_to_next(score, above, page.better, style),
            position=page.player_rank,
        )

    async def players(
        self,
        board_id: str,
        player_ids: list[str],
        period: str | None,
        ranks: str | None = None,
        country: str | None = None,
    ) -> Page:
        """The listed players that have an entry, best first, ranked on the whole board."""
        board = await self._boards.get(board_id)
        start = self._read_period(board, period)
        page = await self._listed(
            board, start, player_ids, rank_style(board, ranks), segment_of(board, country)
        )
        return Page(
            leaderboard=board.id,
            period=public_period(start),
            total=page.total,
            entries=await self._entries(page),
        )

    async def named(
        self,
        board_id: str,
        prefix: str,
        limit: int,
        period: str | None,
        ranks: str | None = None,
        country: str | None = None,
    ) -> Page:
        """The board's players whose display name starts with ``prefix``, best first."""
        board = await self._boards.get(board_id)
        start = self._read_period(board, period)
        rank_style(board, ranks)  # a bad value is a 400 before any read
        segment_of(board, country)
        ids = await self._records.players_named(board.id, start, prefix, limit)
        return await self.players(board.id, ids, period, ranks, country)

    async def histogram(
        self,
        board_id: str,
        buckets: int,
        period: str | None,
        ranks: str | None = None,
        country: str | None = None,
    ) -> HistogramPage:
        """The board's shape; ``ranks`` is checked (every read takes it) but numbers nothing."""
        board = await self._boards.get(board_id)
        start = self._read_period(board, period)
        rank_style(board, ranks)
        segment = segment_of(board, country)
        if self._index.holds_nothing(board, start):
            shape = Histogram(total=0, lowest=0, width=1, counts=[])
        else:
            shape = await self._index.read(
                board,
                start,
                lambda scripts, keys: scripts.histogram(keys, board.order, buckets),
                segment,
            )
        highest = shape.highest
        return HistogramPage(
            leaderboard=board.id,
            period=public_period(start),
            total=shape.total,
            buckets=[
                Bucket(
                    low=shape.lowest + i * shape.width,
                    high=min(shape.lowest + (i + 1) * shape.width - 1, highest),
                    count=count,
                )
                for i, count in enumerate(shape.counts)
            ],
        )

    async def _listed(
        self,
        board: Board,
        start: date,
        player_ids: list[str],
        style: RankStyle,
        segment: str | None,
    ) -> Slice:
        if not player_ids:
            return Slice(total=0, first_rank=1, entries=[])
        return await self._read(
            board,
            start,
            lambda scripts, keys: scripts.players(
                keys, board.order, player_ids, ReadView(self._names, style)
            ),
            segment,
        )

    def _read_period(self, board: Board, period: str | None) -> date:
        return resolve_period(board.reset, period, self._clock())

    async def _read(
        self,
        board: Board,
        start: date,
        read: Callable[[IndexScripts, IndexKeys], Awaitable[Slice]],
        segment: str | None = None,
    ) -> Slice:
        """Read a period's index (built first when missing); empty where nothing can be.

        ``segment``: that country's index of the period instead.
        """
        if self._index.holds_nothing(board, start):
            return Slice(total=0, first_rank=1, entries=[])
        return await self._index.read(board, start, read, segment)

    async def _around(
        self,
        board_id: str,
        player_id: str,
        period: str | None,
        radius: int,
        ranks: str | None,
        country: str | None,
    ) -> tuple[Board, date, Slice]:
        player_id = canonical_player_id(player_id)
        board = await self._boards.get(board_id)
        start = self._read_period(board, period)
        style = rank_style(board, ranks)
        page = await self._read(
            board,
            start,
            lambda scripts, keys: scripts.around(
                keys, board.order, player_id, radius, ReadView(self._names, style)
            ),
            segment_of(board, country),
        )
        if page.player_rank is None:
            raise NotFoundError(f"player {player_id!r} has no entry on {board.id!r}")
        return board, start, page

    async def _entries(self, page: Slice) -> list[Entry]:
        """The page's entries with their names: read with them, or asked of the players."""
        names = await self._players.display_names(
            [player for player, _ in page.entries], cached=page.names
        )
        return [
            Entry(rank=rank, player_id=player, display_name=names.get(player), score=score)
            for rank, (player, score) in zip(page.shown_ranks(), page.entries, strict=True)
        ]
