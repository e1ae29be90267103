"""A player's new profile country: their entries move between a board's country indexes.

Country indexes (docs/ranking.md, "Country segments") are kept by the submission's own
script call; only a change of country moves entries between them, here, after the
profile's change committed and before it is answered.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from leaderboard.boards.models import Board
from leaderboard.lib.errors import NotFoundError
from leaderboard.ranking.index import IndexNotReadyError, RankIndex
from leaderboard.ranking.locator import IndexLocator
from leaderboard.ranking.records import ScoreRecords
from leaderboard.ranking.scripts import IndexScripts


class CountryMoves:
    def __init__(
        self,
        *,
        index: RankIndex,
        scripts: IndexScripts,
        locator: IndexLocator,
        records: ScoreRecords,
        board_of: Callable[[str], Awaitable[Board]],
    ) -> None:
        self._index = index
        self._scripts = scripts
        self._locator = locator
        self._records = records
        self._board_of = board_of

    async def move(self, player_id: str, old: str | None, new: str | None) -> None:
        """Every period of every segmented board where the player has an entry.

        Out of the old country's index, into the new one's where it is built; a period
        whose index is not built is left: it is built from Postgres, where the new country
        is, when first read.
        """
        for board_id, period, score, seq in await self._records.segmented_entries(player_id):
            try:
                board = await self._board_of(board_id)
            except NotFoundError:
                continue  # deleted meanwhile
            if old is not None:
                await self._scripts.remove(self._locator.keys(board, period, old), player_id)
            if new is not None:
                with contextlib.suppress(IndexNotReadyError):
                    await self._index.apply(
                        board,
                        period,
                        player_id,
                        score,
                        seq,
                        changed=False,
                        announce=False,
                        if_ready=True,
                        country=new,
                    )
        self._index.forget_names()  # the worker's cached pages of every country go
