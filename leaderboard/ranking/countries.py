"""A player's new profile country: their entries move between a board's country indexes.

Country indexes (docs/ranking.md, "Country segments") are kept by the submission's own
script call; only a change of country moves entries between them, here. The change's
``country_moves`` row, committed with the profile (players/repository.py), says from
where to where; each move runs under that row's lock, so it reads the latest change and
two never interleave. The PATCH's worker moves at once, before it answers, and marks the
row moved; the index guard moves every row again once its change or its move is
:data:`SETTLE_SECONDS` old, then deletes it (:meth:`CountryMoves.sweep`; D-048). The
second move clears what a submission whose statement read the old country put back in
that country's index after the first, and brings the player's newest score into the new
one's; it also moves a row that a worker which died (or a Redis outage) left.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from asyncpg import Record

from leaderboard.boards.models import Board
from leaderboard.lib.db import Database
from leaderboard.lib.errors import NotFoundError
from leaderboard.ranking.index import IndexNotReadyError, RankIndex
from leaderboard.ranking.locator import IndexLocator
from leaderboard.ranking.records import ScoreRecords
from leaderboard.ranking.scripts import IndexScripts

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    left_behind: int = 0
    """Changes whose worker died (or met a Redis outage) before moving them."""
    settled: int = 0
    """Changes moved a second time, once past what a late submission could undo."""


# A row is the guard's to move (again) once its change, or its first move, is this old:
# its PATCH's worker has moved it or died, and a submission that read the old country has
# long reached Redis (its commit and index call are milliseconds apart).
SETTLE_SECONDS = 10
SWEEP_BATCH = 100
_PENDING = (
    "SELECT old_countries, new_country, moved_at IS NOT NULL AS moved"
    " FROM country_moves WHERE player_id = $1"
)
# The sweep's own condition, checked again under the row's lock.
_SETTLED = " AND coalesce(moved_at, changed_at) < now() - make_interval(secs => $2)"


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
        async with self._db.transaction() as conn:
            row = await conn.fetchrow(_PENDING + " FOR UPDATE", player_id)
            if row is None:
                return  # settled by the guard meanwhile
            await self._move_row(player_id, row)
            await conn.execute(
                "UPDATE country_moves SET moved_at = now() WHERE player_id = $1", player_id
            )

    async def sweep(self) -> SweepReport:
        """Move once more what settled; move what a dead worker left. Those rows go."""
        due = await self._db.fetch(
            "SELECT player_id::text FROM country_moves"
            " WHERE coalesce(moved_at, changed_at) < now() - make_interval(secs => $1)"
            " ORDER BY changed_at LIMIT $2",
            SETTLE_SECONDS,
            SWEEP_BATCH,
        )
        report = SweepReport()
        for (player_id,) in due:
            async with self._db.transaction() as conn:
                # Locked now, and still due: a change since the listing is not settled.
                row = await conn.fetchrow(
                    _PENDING + _SETTLED + " FOR UPDATE SKIP LOCKED", player_id, SETTLE_SECONDS
                )
                if row is None:
                    continue  # changed meanwhile, or another worker has it now
                await self._move_row(player_id, row)
                await conn.execute("DELETE FROM country_moves WHERE player_id = $1", player_id)
            if row["moved"]:
                report.settled += 1
            else:
                report.left_behind += 1
        if report.left_behind:
            logger.warning(
                "moved %d players' entries left behind by a country change", report.left_behind
            )
        return report

    async def _move_row(self, player_id: str, row: Record) -> None:
        new: str | None = row["new_country"]
        await self._entries(player_id, [c for c in row["old_countries"] if c != new], new)

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
                # Not for good: the player may come back to that country (a tombstone
                # would refuse them); what a late submission puts back there, the
                # second move takes out.
                await self._scripts.remove(
                    self._locator.keys(board, period, country), player_id, forever=False
                )
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
