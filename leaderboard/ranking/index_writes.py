"""The rank index's writes: committed scores in, entries out, an index made ready.

Part of the façade (index.py): :class:`RankIndex` is these writes with the reads and
the upkeep. Every write drops the worker's cached top pages it may have changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date

from leaderboard.boards.models import Board
from leaderboard.boards.periods import span_period_key
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.ranking.announce import Announcements
from leaderboard.ranking.changes import ApplyCall, SpanChange
from leaderboard.ranking.late_writes import LateWrites
from leaderboard.ranking.locator import IndexLocator
from leaderboard.ranking.page_cache import TopPageCache
from leaderboard.ranking.rebuild import Rebuilder
from leaderboard.ranking.records import ScoreRecords
from leaderboard.ranking.scripts import IndexScripts
from leaderboard.ranking.values import (
    NO_EVENTS,
    EventTarget,
    HeldEntry,
    IndexChange,
    IndexNotReadyError,
)

logger = logging.getLogger(__name__)

# How long the guard looks at a submission whose outcome was unknown: Postgres may commit
# it when it comes back, however late that is.
SUSPECT_FOR_MS = 3_600_000


class IndexWrites:
    """What changes an index; RankIndex's constructor sets what it works with."""

    _announce: Announcements
    _late: LateWrites
    _scripts: IndexScripts
    _records: ScoreRecords
    _rebuilder: Rebuilder
    _locator: IndexLocator
    _keys: Keys
    _top_pages: TopPageCache

    # -- changes -------------------------------------------------------------------------

    async def apply(
        self,
        board: Board,
        period: date,
        player_id: str,
        score: int,
        seq: int,
        *,
        changed: bool,
        announce: bool = True,
        if_ready: bool = False,
        country: str | None = None,
    ) -> IndexChange:
        """Put a committed (score, sequence) in the period's index, building it if lost.

        One ``rank_changed`` event (and ``overtaken`` ones) go out when the index changes
        and ``announce``; a change a rebuild absorbed is announced too, but only if it was
        one (``changed``): never an unchanged submission's. ``if_ready``: an index that is
        not built raises IndexNotReadyError instead (it reads the entry when it is built).
        ``country``: the player's, on a segmented board: that country's index changes too.
        """
        events = self._announce.changed(board, period, player_id) if announce else None

        async def apply(after_rebuild: bool = False) -> IndexChange:
            call = self._apply_call(
                board, period, player_id, score, seq, events, after_rebuild=after_rebuild,
                country=country,
            )  # fmt: skip
            return await self._scripts.apply_one(call)

        try:
            change = await apply()
        except IndexNotReadyError:
            if if_ready:
                raise
            # Lost (Redis restarted empty, FLUSHALL) or never built: rebuild, then apply
            # again; the rebuilt index may hold this change already (a no-op then).
            await self.ensure_ready(board, period)
            return await apply(after_rebuild=changed)
        if change.written:
            self._top_pages.changed(board.id, period, change.rank, change.previous_rank)
        return change

    async def apply_spans(
        self, changes: Sequence[SpanChange], player_id: str, *, country: str | None
    ) -> list[IndexChange | BaseException]:
        """:meth:`apply` for each of a submission's spans, in one script run (D-043).

        Each change's outcome, in order: its IndexChange, or what :meth:`apply` would have
        raised (a Redis outage for all of them). A span whose index is not built is built,
        then applied on its own, as :meth:`apply` does.
        """
        calls = [
            self._apply_call(
                change.board,
                change.period,
                player_id,
                change.score,
                change.seq,
                self._announce.changed(change.board, change.period, player_id),
                after_rebuild=False,
                country=country,
            )
            for change in changes
        ]
        try:
            outcomes: list[IndexChange | BaseException] = list(
                await self._scripts.apply_many(calls)
            )
        except REDIS_OUTAGE_ERRORS as exc:
            return [exc] * len(changes)
        for i, (change, outcome) in enumerate(zip(changes, outcomes, strict=True)):
            if isinstance(outcome, IndexNotReadyError):
                try:
                    outcomes[i] = await self.apply(
                        change.board,
                        change.period,
                        player_id,
                        change.score,
                        change.seq,
                        changed=change.changed,
                        country=country,
                    )
                except Exception as exc:
                    outcomes[i] = exc
            elif isinstance(outcome, IndexChange) and outcome.written:
                self._top_pages.changed(
                    change.board.id, change.period, outcome.rank, outcome.previous_rank
                )
        return outcomes

    async def restore(
        self, board: Board, period: date, player_id: str, score: int, seq: int
    ) -> IndexChange:
        """Put an entry back (an unban) and announce it: one ``entry_restored`` event.

        Announced also when the index holds the entry already (the index guard or a
        rebuild read it from Postgres after the unban committed): the pages open on the
        board learn of it from nothing else. An index that is not built raises
        IndexNotReadyError (it reads the entry when it is built).
        """
        events = self._announce.restored(board, period, player_id)
        call = self._apply_call(
            board, period, player_id, score, seq, events, after_rebuild=True,
            country=await self._country(board, player_id),
        )  # fmt: skip
        change = await self._scripts.apply_one(call)
        if change.written:
            self._top_pages.changed(board.id, period, change.rank, change.previous_rank)
        return change

    async def apply_stored(self, board: Board, period: date, player_id: str) -> IndexChange | None:
        """Put what Postgres holds for the player now in the index; None: no entry there."""
        stored = await self._records.stored(board, period, player_id)
        if stored is None:
            return None
        return await self.apply(
            board,
            period,
            player_id,
            stored.score,
            stored.reached_seq,
            changed=False,
            country=await self._country(board, player_id),
        )

    def apply_later(self, board: Board, period: date, player_id: str) -> None:
        """Keep trying to apply the player's committed score (Redis is down now)."""
        self._late.schedule(board, period, player_id)

    async def remove(
        self,
        board: Board,
        period: date,
        player_id: str,
        *,
        forever: bool = False,
        announce: bool = False,
        country: str | None = None,
    ) -> bool:
        """Take a player's entry out; True when there was one.

        ``forever`` (a deleted player): a late write of an older score is refused too.
        ``announce``: an ``entry_removed`` event goes out when an entry was removed.
        On a segmented board the entry leaves the player's country index too: ``country``
        (a deleted player's, read before the deletion), else their profile's.
        """
        events = self._announce.removed(board, period, player_id) if announce else None
        removed = await self._scripts.remove(
            self._locator.keys(board, period), player_id, forever=forever, events=events
        )
        if board.segments:
            country = country or await self._records.country_of(player_id)
            if country is not None:
                segment = self._locator.keys(board, period, country)
                await self._scripts.remove(segment, player_id, forever=forever)
        self._top_pages.drop_board(board.id)
        return removed

    async def note_unknown(self, board: Board, period: date, player_id: str) -> None:
        """A write whose outcome is unknown: the guard compares it with Postgres for a while."""
        until = int(time.time() * 1000) + SUSPECT_FOR_MS
        try:
            await self._scripts.add_suspect(
                self._keys.suspects(board.id), span_period_key(board, period), player_id, until
            )
        except REDIS_OUTAGE_ERRORS:
            logger.warning("cannot note %s's unknown write on %s in Redis", player_id, board.id)

    async def correct(
        self, board: Board, period: date, player_id: str, seen: HeldEntry, score: int, seq: int
    ) -> bool:
        """Make the player's entry Postgres' (score, seq), if the index still holds ``seen``.

        An entry older than Postgres' is applied like a late write; one that looks newer
        or differs at the same sequence is overwritten: Postgres wins.
        """
        if seen.seq is None or seen.seq < seq:
            change = await self.apply(
                board, period, player_id, score, seq, changed=False, announce=False
            )
            return change.written
        corrected = await self._scripts.repair(
            self._locator.keys(board, period),
            order=board.order,
            player_id=player_id,
            seen=seen,
            score=score,
            reached_seq=seq,
        )
        if corrected:
            self._top_pages.drop_board(board.id)
        return corrected

    async def ensure_ready(self, board: Board, period: date, country: str | None = None) -> None:
        """Make the index ready: rebuild it here, or wait for the worker that does."""
        await self._rebuilder.ensure_ready(board, period, country)
        self._top_pages.drop_board(board.id)

    # -- inside --------------------------------------------------------------------------

    def _apply_call(
        self,
        board: Board,
        period: date,
        player_id: str,
        score: int,
        seq: int,
        events: EventTarget | None,
        *,
        after_rebuild: bool,
        country: str | None,
    ) -> ApplyCall:
        """One change for the apply script (the period's index, the player's country's)."""
        segment = self._locator.keys(board, period, country) if board.segments and country else None
        return ApplyCall(
            self._locator.keys(board, period),
            board.order,
            player_id,
            score,
            seq,
            self._locator.ttl_ms(board, period),
            events or NO_EVENTS,
            after_rebuild=after_rebuild,
            ranks=board.ranks,
            segment=segment,
        )

    async def _country(self, board: Board, player_id: str) -> str | None:
        """The player's country where a segmented board needs it (not on the write path)."""
        return await self._records.country_of(player_id) if board.segments else None
