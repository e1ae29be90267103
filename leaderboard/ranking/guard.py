"""The index guard: compares the Redis indexes with Postgres in the background and repairs them.

Postgres is the record, Redis the index. Whatever Redis loses or gets wrong converges back
without an operator (docs/operations.md states the guarantee, docs/decisions.md the design):

- **Restart or failover** (an append-only file may have lost its last writes, a promoted
  replica may lag): each index's ready marker holds the run id of the server it was built
  on; a marker with another server's run id is rebuilt.
- **One key lost** (evicted, deleted): a ready index whose sorted set is gone while
  Postgres has settled rows, or whose members hash holds fewer fields than the set has
  entries (the hash, or part of it, lost), is rebuilt. Reads and writes that find such a
  torn index, or no ready marker, rebuild it first (index_common.lua, rebuild.py).
- **Entries that disagree** (a write that never landed, a removal that never did, a
  score changed in Postgres by hand): each round compares the per-bucket digests of both
  sides and repairs the entries of the buckets that differ, each alone (convergence.py):
  found within one round whatever the board's size. An index whose digest no longer
  counts its sorted set (entries added or dropped behind the scripts' back, or an index
  from before digests) is rebuilt.
- **A score changed in Redis behind the scripts' back** (the digest cannot see it): a
  rolling check compares a slice of the board each round, by player id from Postgres'
  side and by rank from Redis' side, and repairs each entry alone (no rebuild).
- **A country change whose move never ran** (its worker died after the profile's
  commit), **or that a late submission undid** (its statement read the old country and
  its index call came after the move): every ``country_moves`` row is moved once more
  when 10 s old, then goes (countries.py).
- **Writes whose outcome was unknown** (Postgres timed out after the statement was sent)
  are remembered in Redis as suspects and checked every round for an hour, by any worker.

Every round takes each board's current period once across all workers (a lock per index
with the interval as TTL), so the cost does not grow with the number of workers. One
round over a board costs a few Redis calls, the two sides' digests (≤ 4096 buckets) and
a few primary-key range reads in Postgres, never a scan of the board.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from leaderboard.boards.models import Board
from leaderboard.boards.periods import resolve_period, span_period_key
from leaderboard.boards.service import BoardService
from leaderboard.lib.clock import Clock
from leaderboard.lib.errors import DependencyUnavailableError, NotFoundError
from leaderboard.lib.metrics import INDEX_REPAIRS
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.tasks import Periodic
from leaderboard.ranking.convergence import DigestPass, repair_disagreeing
from leaderboard.ranking.countries import CountryMoves
from leaderboard.ranking.digests import Digest, ScoreDigests
from leaderboard.ranking.index import RankIndex
from leaderboard.ranking.records import CheckedRow, ScoreRecords

logger = logging.getLogger(__name__)

# What skips a round (the next one tries again) rather than failing it.
_OUTAGES: tuple[type[Exception], ...] = (DependencyUnavailableError, *REDIS_OUTAGE_ERRORS)


@dataclass
class PeriodReport:
    """What one check of one index found and did."""

    board_id: str
    checked: bool = False
    rebuilt: str | None = None
    """Why the index was rebuilt: restart, missing, digest, diverged; None when it was not."""
    repaired: int = 0
    removed: int = 0
    compared: int = 0
    differing: int = 0
    """Buckets whose digests differed (read twice)."""
    reseeded: int = 0


@dataclass
class RoundReport:
    periods: list[PeriodReport] = field(default_factory=list)
    countries_moved: int = 0
    """Players whose country change a dead worker left unmoved (countries.py)."""
    country_moves_settled: int = 0
    """Country changes moved a second time, past a late submission's reach (countries.py)."""

    @property
    def repaired(self) -> int:
        return sum(p.repaired + p.removed for p in self.periods)

    @property
    def rebuilt(self) -> list[str]:
        return [p.board_id for p in self.periods if p.rebuilt]


class IndexGuard:
    def __init__(
        self,
        *,
        boards: BoardService,
        records: ScoreRecords,
        digests: ScoreDigests,
        index: RankIndex,
        clock: Clock,
        interval_seconds: float,
        slice_size: int = 1000,
        moves: CountryMoves | None = None,
    ) -> None:
        self._boards = boards
        self._moves = moves
        self._records = records
        self._digests = digests
        self._digest_pass = DigestPass(digests=digests, records=records, index=index)
        self._index = index
        self._clock = clock
        self._interval = interval_seconds
        self._slice = slice_size
        self._rounds = Periodic("index check", interval_seconds, self.run_once, skippable=_OUTAGES)
        # Entries the index holds and Postgres does not, seen in the previous round: one
        # round may race a player's deletion (Postgres first, the index right after).
        self._extras: dict[tuple[str, str, date], set[str]] = {}

    def start(self) -> None:
        self._rounds.start()

    async def close(self) -> None:
        await self._rounds.close()

    async def run_once(self) -> RoundReport:
        """Check each span's current period of every board (unless another worker does)."""
        report = RoundReport()
        await self._digests.fold()
        if self._moves is not None:
            moves = await self._moves.sweep()
            report.countries_moved, report.country_moves_settled = moves.left_behind, moves.settled
        for board in await self._boards.list():
            for view in board.views():
                period = resolve_period(view.reset, None, self._clock())
                try:
                    report.periods.append(await self.check(view, period))
                except NotFoundError:  # deleted meanwhile
                    break
        return report

    async def check(self, board: Board, period: date) -> PeriodReport:
        report = PeriodReport(board.id)
        taken = await self._index.checks.take(board, period, int(self._interval * 1000))
        if taken is None:
            # Another worker checks it this round; or it is not built: the first read or
            # write builds it from Postgres.
            return report
        state, built_here = taken
        report.checked = True
        if not built_here:
            return await self._rebuild(board, period, report, "restart")
        # Lost: the sorted set while Postgres has rows; or torn: members-hash fields lost
        # (a write would give such a player a second entry: index_common.lua's torn()).
        if (state.entries == 0 and await self._records.has_entries(board, period)) or (
            state.members < state.entries
        ):
            return await self._rebuild(board, period, report, "missing")
        # The digest must count the set's entries: entries added or dropped other than by
        # the index scripts (or an index from before digests) leave it behind.
        if sum(Digest.parse(value).entries for value in state.digest.values()) != state.entries:
            return await self._rebuild(board, period, report, "digest")

        rows = await self._records.rows_after(board, period, state.player_cursor, self._slice)
        player_cursor = rows[-1].player_id if len(rows) >= self._slice else ""
        suspects = _suspects_of(state.suspects, board, period)
        if suspects:
            rows += await self._records.rows_of(board, period, suspects)
        await self._compare(board, period, rows, report)
        rank_cursor = await self._remove_extras(board, period, state.rank_cursor, report)
        await self._index.checks.save_cursors(board, period, player_cursor, rank_cursor)
        digests = await self._digest_pass.run(board, period, state.digest)
        if digests.rebuild:
            return await self._rebuild(board, period, report, "diverged")
        report.repaired += digests.repaired
        report.removed += digests.removed
        report.differing, report.reseeded = digests.differing, digests.reseeded
        if report.repaired or report.removed:
            await self._drop_segments(board, period)
            INDEX_REPAIRS.labels("diverged").inc(report.repaired + report.removed)
            logger.warning(
                "index of %s (%s) disagreed with Postgres: %d entries repaired, %d removed",
                board.id, span_period_key(board, period), report.repaired, report.removed,
            )  # fmt: skip
        return report

    async def _rebuild(
        self, board: Board, period: date, report: PeriodReport, cause: str
    ) -> PeriodReport:
        entries = await self._index.rebuild(board, period)
        if entries is not None:  # None: another worker is rebuilding it
            await self._drop_segments(board, period)
            report.rebuilt = cause
            INDEX_REPAIRS.labels(cause).inc()
            logger.warning(
                "index of %s (%s) rebuilt from Postgres (%s): %d entries",
                board.id, span_period_key(board, period), cause, entries,
            )  # fmt: skip
        return report

    async def _drop_segments(self, board: Board, period: date) -> None:
        """A segmented board's country indexes go with a wrong board index (D-046)."""
        if board.segments:
            await self._index.checks.drop_segments(board, period)

    async def _compare(
        self, board: Board, period: date, rows: list[CheckedRow], report: PeriodReport
    ) -> None:
        """Postgres' side: each row's entry must hold its score and sequence."""
        held = await self._index.checks.held(board, period, [row.player_id for row in rows])
        report.compared += len(rows)
        repaired, _ = await repair_disagreeing(
            self._records, self._index, board, period, rows, held
        )
        report.repaired += repaired

    async def _remove_extras(
        self, board: Board, period: date, first: int, report: PeriodReport
    ) -> int:
        """Redis' side: entries of a window of ranks that Postgres does not have go.

        Returns where the next round's window starts.
        """
        window = await self._index.checks.window(board, period, first, self._slice)
        players = [player for player, _ in window]
        rows = await self._records.rows_of(board, period, players)
        present = {row.player_id for row in rows}
        extras = {player for player in players if player not in present}
        confirmed = extras & self._extras.pop((board.id, board.span, period), set())
        for player in confirmed:
            report.removed += await self._index.remove(board, period, player)
        if extras - confirmed:
            self._extras[(board.id, board.span, period)] = extras - confirmed
            return first  # look at this window again next round
        return first + self._slice if len(window) >= self._slice else 0


def _suspects_of(suspects: list[str], board: Board, period: date) -> list[str]:
    """The players among ``<period key>|<player id>`` suspects of this period."""
    prefix = span_period_key(board, period) + "|"
    return [item[len(prefix) :] for item in suspects if item.startswith(prefix)]
