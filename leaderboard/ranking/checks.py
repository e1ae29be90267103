"""What the index guard reads of an index to check it against Postgres (guard.py).

Reads only, and the per-round bookkeeping (the round's lock, the cursors); the guard
repairs through the façade (``RankIndex.correct``, ``remove``, ``rebuild``).
"""

from __future__ import annotations

import dataclasses
import time
from datetime import date

from leaderboard.boards.models import Board
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis, run_id_of
from leaderboard.players.countries import ISO_3166_ALPHA_2
from leaderboard.ranking.locator import IndexLocator
from leaderboard.ranking.scripts import IndexScripts
from leaderboard.ranking.values import CheckState, HeldEntry

# The ready marker of indexes built before markers held a run id.
LEGACY_MARKER = "1"
# Keys per UNLINK when a period's country indexes go (all in the board's hash tag).
UNLINK_BATCH = 500


class IndexChecks:
    def __init__(
        self, redis: AnyRedis, scripts: IndexScripts, locator: IndexLocator, keys: Keys
    ) -> None:
        self._redis = redis
        self._scripts = scripts
        self._locator = locator
        self._keys = keys

    async def take(
        self, board: Board, period: date, interval_ms: int
    ) -> tuple[CheckState, bool] | None:
        """Take this round's check of a ready index (None: taken elsewhere, or not built).

        Returns what the index holds and whether it was built on this Redis server (a
        marker of another run id: a restart or failover since; rebuild it).
        """
        keys = self._locator.keys(board, period)
        state = await self._scripts.check(
            keys, self._keys.suspects(board.id), interval_ms, int(time.time() * 1000)
        )
        if state is None or state.marker is None:
            return None
        run_id = await run_id_of(self._redis, keys.ready)
        if state.marker == LEGACY_MARKER:
            await self._redis.set(keys.ready, run_id, xx=True, keepttl=True)
            return state, True
        return state, state.marker == run_id

    async def held(self, board: Board, period: date, player_ids: list[str]) -> list[HeldEntry]:
        """What the index holds for each of ``player_ids``, in order."""
        return await self._scripts.entries_of(self._locator.keys(board, period), player_ids)

    async def window(
        self, board: Board, period: date, first: int, count: int
    ) -> list[tuple[str, str]]:
        """(player id, Redis score) of ``count`` entries from position ``first`` (0-based)."""
        return await self._scripts.window(
            self._locator.keys(board, period), first, first + count - 1
        )

    async def digest_of(
        self, board: Board, period: date, buckets: list[int]
    ) -> dict[int, str | None]:
        """The index's digest of each of ``buckets`` now (None: an empty bucket)."""
        if not buckets:
            return {}
        digest = self._locator.keys(board, period).digest
        values = await self._redis.hmget(digest, [str(bucket) for bucket in buckets])
        return {b: None if v is None else str(v) for b, v in zip(buckets, values, strict=True)}

    async def bucket_members(self, board: Board, period: date, bucket: int) -> list[str]:
        """The players with an entry or a tombstone whose id falls in ``bucket``.

        A scan of the whole members hash (HSCAN MATCH): only for a bucket holding more
        than one entry Postgres does not have, which the digest cannot name.
        """
        members = self._locator.keys(board, period).members
        return [
            player
            async for player, _ in self._redis.hscan_iter(
                members, match=f"{bucket:03x}*", count=10_000
            )
        ]

    async def set_digest(
        self, board: Board, period: date, bucket: int, seen: str, digest: str
    ) -> bool:
        """Set a bucket's digest to what its entries make, if it is still ``seen``."""
        return await self._scripts.set_digest(
            self._locator.keys(board, period), bucket, seen, digest
        )

    async def save_cursors(
        self, board: Board, period: date, player_cursor: str, rank_cursor: int
    ) -> None:
        """Where the guard's rolling check goes on next round (any worker's)."""
        await self._scripts.save_cursors(
            self._locator.keys(board, period), player_cursor, rank_cursor
        )

    async def drop_segments(self, board: Board, period: date) -> None:
        """Unlink every country index of a segmented board's period.

        After the guard found the board's own index wrong (rebuilt or repaired it), the
        country indexes, which the same script calls keep, are no better: each is built
        again from Postgres by its next read (an unread one costs nothing). Every country
        code's keys are named, no SCAN: they share the board's hash tag (one slot).
        """
        names = [
            name
            for country in sorted(ISO_3166_ALPHA_2)
            for name in dataclasses.astuple(self._locator.keys(board, period, country))
        ]
        for first in range(0, len(names), UNLINK_BATCH):
            await self._redis.unlink(*names[first : first + UNLINK_BATCH])
