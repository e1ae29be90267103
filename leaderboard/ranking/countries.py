"""A player's new profile country: their entries move between a board's country indexes.

Country indexes (docs/ranking.md, "Country segments") are kept by the submission's own
script call; only a change of country moves entries between them, here. The change's
``country_moves`` row, committed with the profile (players/repository.py), says from
where to where; the move runs under that row's lock and deletes it, so each move reads
the latest change and two never interleave. The PATCH's worker moves at once, before it
answers; a row left by a worker that died (or by a Redis outage) is moved by the index
guard's next round (:meth:`CountryMoves.sweep`; D-048).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from leaderboard.boards.models import Board
from leaderboard.lib.db import Database
from leaderboard.lib.errors import NotFoundError
from leaderboard.ranking.index import IndexNotReadyError, RankIndex
from leaderboard.ranking.locator import IndexLocator
from leaderboard.ranking.records import ScoreRecords
from leaderboard.ranking.scripts import IndexScripts

logger = logging.getLogger(__name__)

# A row younger than this is its PATCH's to move (its worker is moving it now).
SWEEP_AFTER_SECONDS = 10
SWEEP_BATCH = 100
_PENDING = "SELECT old_countries, new_country FROM country_moves WHERE player_id = $1 FOR UPDATE"
_PENDING_SKIP = _PENDING + " SKIP LOCKED"


class CountryMoves:
    def __init__(
        self,
        *,
        db: Database,
        index: RankIndex,
        scripts: IndexScripts,
        locator: IndexLocator,
        records: ScoreRecords,
        board_of: Callable[[str], Awaitable[Board]],
    ) -> None:
        self._db = db
        self._index = index
        self._scripts = scripts
        self._locator = locator
        self._records = records
        self._board_of = board_of

    async def move(self, player_id: str) -> None:
        """Move the player's entries as their pending change says (nothing: none pends)."""
        await self._move_pending(player_id, skip_locked=False)

    async def sweep(self) -> int:
        """Move what older changes left pending (a worker died between commit and move)."""
        left = await self._db.fetch(
            "SELECT player_id::text FROM country_moves"
            " WHERE changed_at < now() - make_interval(secs => $1)"
            " ORDER BY changed_at LIMIT $2",
            SWEEP_AFTER_SECONDS,
            SWEEP_BATCH,
        )
        moved = 0
        for row in left:
            moved += await self._move_pending(row[0], skip_locked=True)
        if moved:
            logger.warning("moved %d players' entries left behind by a country change", moved)
        return moved

    async def _move_pending(self, player_id: str, *, skip_locked: bool) -> bool:
        """Under the change's row lock: move, then delete the row. False: nothing to do."""
        async with self._db.transaction() as conn:
            row = await conn.fetchrow(_PENDING_SKIP if skip_locked else _PENDING, player_id)
            if row is None:
                return False  # moved by another worker meanwhile, or locked by it now
            new: str | None = row["new_country"]
            await self._entries(player_id, [c for c in row["old_countries"] if c != new], new)
            await conn.execute("DELETE FROM country_moves WHERE player_id = $1", player_id)
        return True

    async def _entries(self, player_id: str, old: Sequence[str], new: str | None) -> None:
        """Every period of every segmented board where the player has an entry.

        Out of the old countries' indexes, into the new one's where it is built; a period
        whose index is not built is left: it is built from Postgres, where the new country
        is, when first read. Each step is idempotent, so a move done twice is one move.
        """
        entries = await self._records.segmented_entries(player_id)
        for board_id, span_no, period, score, seq in entries:
            try:
                board = (await self._board_of(board_id)).view_of(span_no)
            except NotFoundError:
                continue  # deleted meanwhile
            for country in old:
                await self._scripts.remove(self._locator.keys(board, period, country), player_id)
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
