"""Rebuilding a period's index from Postgres, by an operator or by itself.

A rebuild takes the index's lock (only one worker rebuilds), streams the period's rows
from one Postgres snapshot into temporary keys, then swaps them in with
``index_swap.lua``, which first replays the journal: the changes other workers applied
to the live index while the rebuild ran (``index_apply.lua`` journals while the lock is
held). So nothing committed is lost, whatever the interleaving. Readers keep reading
the old index during the rebuild, if there is one; writers that find no ready index wait
for the rebuild, then apply their change to the new one.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date

from leaderboard.boards.models import Board
from leaderboard.boards.repository import BoardRepository
from leaderboard.lib.errors import DependencyUnavailableError, NotFoundError
from leaderboard.lib.keys import IndexKeys
from leaderboard.lib.metrics import REBUILDS
from leaderboard.lib.redis_client import AnyRedis, run_id_of
from leaderboard.ranking.locator import IndexLocator
from leaderboard.ranking.records import ScoreRecords
from leaderboard.ranking.scripts import IndexScripts
from leaderboard.ranking.values import member_for, seq_hex, to_redis_score

logger = logging.getLogger(__name__)

LOCK_TTL_MS = 60_000
FILL_PART = 500
WAIT_TIMEOUT_SECONDS = 30.0
Progress = Callable[[int, int], None]  # (rows done, rows in all)


class Rebuilder:
    def __init__(
        self,
        redis: AnyRedis,
        index: IndexScripts,
        boards: BoardRepository,
        records: ScoreRecords,
        locator: IndexLocator,
    ) -> None:
        self._redis = redis
        self._index = index
        self._boards = boards
        self._records = records
        self._locator = locator
        self.rebuilds = 0  # how many this worker ran (metrics, tests)

    async def rebuild(
        self,
        board: Board,
        period: date,
        progress: Progress | None = None,
        country: str | None = None,
    ) -> int | None:
        """Rebuild now; the entry count, or None when another rebuild holds the lock.

        ``country``: that country's segment of the period (segmented boards).
        """
        keys = self._locator.keys(board, period, country)
        ttl_ms = self._locator.ttl_ms(board, period)
        token = secrets.token_hex(8)
        if not await self._redis.set(keys.lock, token, nx=True, px=LOCK_TTL_MS):
            return None
        started = time.monotonic()
        temp_scores, temp_members = keys.temporary(token)
        temp_distinct = keys.temporary_distinct(token)
        temporary = (temp_scores, temp_members, temp_distinct, keys.temporary_digest(token))
        done = 0
        try:
            # A board deleted since the caller looked it up gets no index (a late
            # submission would otherwise leave keys behind that nothing ever deletes).
            if not await self._boards.exists(board.id):
                raise NotFoundError(f"no leaderboard {board.id!r}")
            total = await self._records.count(board, period, country)
            if progress:
                progress(done, total)
            async for batch in self._records.stream(board, period, country=country):
                pipe = self._redis.pipeline(transaction=False)
                pipe.zadd(
                    temp_scores,
                    {
                        member_for(seq, player): to_redis_score(score, board.order)
                        for player, score, seq in batch
                    },
                )
                pipe.hset(
                    temp_members,
                    mapping={player: seq_hex(seq) for player, _, seq in batch},
                )
                # The distinct scores (dense ranks).
                distinct = {to_redis_score(score, board.order) for _, score, _ in batch}
                pipe.zadd(temp_distinct, {str(score): score for score in distinct})
                for key in (*temporary, keys.lock):
                    pipe.pexpire(key, LOCK_TTL_MS)  # a long rebuild keeps its lock alive
                await pipe.execute()
                # Their digest, in parts of FILL_PART entries (each call holds Redis a few
                # ms; the calls of a batch leave in one pipeline). A country's segment has
                # none: the index guard checks the board's index, which holds every entry.
                await asyncio.gather(
                    *(
                        self._index.fill(
                            keys, token, board.order, batch[i : i + FILL_PART], LOCK_TTL_MS
                        )
                        for i in range(0, len(batch) if country is None else 0, FILL_PART)
                    )
                )
                done += len(batch)
                if progress:
                    progress(done, max(total, done))
            run_id = await run_id_of(self._redis, keys.ready)
            entries = await self._index.swap(
                keys, token, (temp_scores, temp_members), ttl_ms, run_id
            )
        except BaseException:
            await self._release(keys, token, temporary)
            raise
        if entries < 0:
            logger.warning("rebuild of %s lost its lock and was discarded", keys.scores)
            return None
        self.rebuilds += 1
        REBUILDS.inc()
        logger.info(
            "rebuilt %s: %d entries in %.2f s", keys.scores, entries, time.monotonic() - started
        )
        return entries

    async def ensure_ready(self, board: Board, period: date, country: str | None = None) -> None:
        """Make the index ready: rebuild it here, or wait for the worker that does."""
        keys = self._locator.keys(board, period, country)
        deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if await self._redis.exists(keys.ready):
                return
            if await self.rebuild(board, period, country=country) is not None:
                return
            await asyncio.sleep(0.05)
        raise DependencyUnavailableError(
            "redis", f"the index of leaderboard {board.id!r} is still being rebuilt"
        )

    @asynccontextmanager
    async def locked(
        self, board: Board, period: date, on_drop: Callable[[], None] | None = None
    ) -> AsyncIterator[IndexLock | None]:
        """Hold the period's rebuild lock: no rebuild starts, or swaps an index in, meanwhile.

        Yields None when a rebuild holds it now (the caller tries again later). Retention
        (retention.py) drops a period's rows and its index under it, so that no rebuild
        that read the rows before they went can put them back into Redis afterwards.
        """
        keys = self._locator.keys(board, period)
        token = secrets.token_hex(8)
        if not await self._redis.set(keys.lock, token, nx=True, px=LOCK_TTL_MS):
            yield None
            return
        lock = IndexLock(self._redis, keys, token, on_drop)
        try:
            yield lock
        finally:
            if await self._redis.get(keys.lock) == token:
                await self._redis.delete(keys.lock)

    async def _release(self, keys: IndexKeys, token: str, temporary: tuple[str, ...]) -> None:
        try:
            await self._redis.delete(*temporary)
            if await self._redis.get(keys.lock) == token:
                await self._redis.delete(keys.lock)
        except Exception:
            logger.warning("could not clean up after a failed rebuild of %s", keys.scores)


class IndexLock:
    """A period's rebuild lock held outside a rebuild (see :meth:`Rebuilder.locked`)."""

    def __init__(
        self,
        redis: AnyRedis,
        keys: IndexKeys,
        token: str,
        on_drop: Callable[[], None] | None = None,
    ) -> None:
        self._redis = redis
        self.keys = keys
        self._token = token
        self._on_drop = on_drop

    async def renew(self) -> bool:
        """Keep holding it another LOCK_TTL_MS; False when it was lost (it expired)."""
        if await self._redis.get(self.keys.lock) != self._token:
            return False
        return bool(await self._redis.pexpire(self.keys.lock, LOCK_TTL_MS))

    async def drop(self) -> None:
        """Delete the period's index (its rows are gone: retention), still under the lock."""
        keys = self.keys
        await self._redis.delete(
            keys.scores,
            keys.members,
            keys.ready,
            keys.journal,
            keys.check,
            keys.cursors,
            keys.distinct,
            keys.digest,
        )
        if self._on_drop is not None:
            self._on_drop()
