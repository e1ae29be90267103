"""Putting committed scores into the index: announce, rebuild when lost, repair after outages."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

from leaderboard.boards.index_locator import IndexLocator
from leaderboard.boards.index_values import EventTarget, IndexChange, IndexNotReadyError
from leaderboard.boards.models import Board
from leaderboard.boards.page_cache import TopPageCache
from leaderboard.boards.periods import public_period
from leaderboard.boards.rank_index import RankIndex
from leaderboard.boards.rebuild import Rebuilder
from leaderboard.boards.score_repository import ScoreRepository
from leaderboard.events.models import event_head, overtaken_parts
from leaderboard.lib.errors import DependencyUnavailableError, NotFoundError
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.tasks import stop_tasks

logger = logging.getLogger(__name__)

# How long a worker keeps trying to apply a committed score that missed the index (the
# index check repairs it too, from any worker, if this one dies first).
REPAIR_FOR_SECONDS = 600


class ScoreIndexer:
    def __init__(
        self,
        *,
        index: RankIndex,
        rebuilder: Rebuilder,
        locator: IndexLocator,
        scores: ScoreRepository,
        keys: Keys,
        top_pages: TopPageCache,
        stream_length: int = 1000,
        sharded_pubsub: bool = False,
    ) -> None:
        self._index = index
        self._rebuilder = rebuilder
        self._locator = locator
        self._scores = scores
        self._keys = keys
        self._top_pages = top_pages
        self._stream_length = stream_length
        self._sharded_pubsub = sharded_pubsub
        self._repairs: set[asyncio.Task[None]] = set()

    async def apply(
        self, board: Board, period: date, player_id: str, score: int, seq: int, changed: bool
    ) -> IndexChange:
        now = self._locator.now()
        overtaken_head, overtaken_middle = overtaken_parts(
            board.id, public_period(period), player_id, now
        )
        events = EventTarget(
            channel=self._keys.events_channel(board.id),
            stream=self._keys.events_stream(board.id),
            head=event_head(board.id, public_period(period), player_id, now),
            stream_length=self._stream_length,
            publish_command="SPUBLISH" if self._sharded_pubsub else "PUBLISH",
            overtake=board.overtake_events,
            overtaken_head=overtaken_head,
            overtaken_middle=overtaken_middle,
        )

        async def apply(after_rebuild: bool = False) -> IndexChange:
            return await self._index.apply(
                self._locator.keys(board, period),
                order=board.order,
                player_id=player_id,
                score=score,
                reached_seq=seq,
                ttl_ms=self._locator.ttl_ms(board, period),
                events=events,
                after_rebuild=after_rebuild,
            )

        try:
            change = await apply()
        except IndexNotReadyError:
            # Lost (Redis restarted empty, FLUSHALL) or never built: rebuild, then apply
            # again; the rebuilt index may hold this change already (a no-op then).
            await self._rebuilder.ensure_ready(board, period)
            self._top_pages.drop_board(board.id)
            # Announce a change the rebuild absorbed, but only a change: never an
            # unchanged submission's.
            return await apply(after_rebuild=changed)
        if change.written:
            self._top_pages.changed(board.id, period, change.rank, change.previous_rank)
        return change

    def schedule_repair(self, board: Board, period: date, player_id: str) -> None:
        task = asyncio.create_task(self._repair(board, period, player_id))
        self._repairs.add(task)
        task.add_done_callback(self._repairs.discard)

    async def _repair(self, board: Board, period: date, player_id: str) -> None:
        """Apply a committed score that missed the index, once Redis answers again."""
        delay = 0.5
        deadline = asyncio.get_running_loop().time() + REPAIR_FOR_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(delay)
            try:
                stored = await self._scores.stored(board.id, period, player_id)
                if stored is not None:
                    await self.apply(
                        board, period, player_id, stored.score, stored.reached_seq, False
                    )
                return
            except NotFoundError:  # the player was deleted meanwhile: nothing to apply
                return
            except DependencyUnavailableError:
                delay = min(delay * 2, 30.0)
            except REDIS_OUTAGE_ERRORS:
                delay = min(delay * 2, 30.0)
        logger.error(
            "gave up applying %s's score on %s; run `leaderboard rebuild %s`",
            player_id,
            board.id,
            board.id,
        )

    @property
    def repairs_pending(self) -> int:
        """Committed scores this worker is still trying to put in the index."""
        return len(self._repairs)

    async def close(self) -> None:
        """Stop background repairs (shutdown); a rebuild repairs what they did not."""
        await stop_tasks(list(self._repairs))
