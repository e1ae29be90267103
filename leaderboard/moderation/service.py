"""Moderation: removing one entry, banning and unbanning players.

Postgres decides (the entry is deleted, the player's rows are hidden), in a transaction
that also writes the audit entry; the indexes follow right after the commit. Reads never
ask Postgres whether a player is banned: a banned player's entries are not in the
indexes (rebuilds and the index check leave hidden rows out), and the score upsert
refuses them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date

from leaderboard.audit.repository import AuditLog
from leaderboard.auth.sessions import SessionStore
from leaderboard.boards.periods import public_period, resolve_period
from leaderboard.boards.service import BoardService
from leaderboard.lib.clock import Clock
from leaderboard.lib.db import Database
from leaderboard.lib.errors import DependencyUnavailableError, NotFoundError
from leaderboard.lib.ids import canonical_player_id
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS
from leaderboard.lib.tasks import stop_tasks
from leaderboard.players.service import PlayerService
from leaderboard.ranking.index import IndexNotReadyError, RankIndex
from leaderboard.scores.repository import ScoreRepository

logger = logging.getLogger(__name__)

_SWEEP_STOPS: tuple[type[Exception], ...] = (
    NotFoundError,
    DependencyUnavailableError,
    *REDIS_OUTAGE_ERRORS,
)

# A submission committed just before a ban may reach the index just after its entries
# were taken out: they are taken out once more after this long (the index check would
# also find them, later).
SECOND_SWEEP_SECONDS = 2.0


class ModerationService:
    def __init__(
        self,
        *,
        db: Database,
        boards: BoardService,
        scores: ScoreRepository,
        index: RankIndex,
        players: PlayerService,
        sessions: SessionStore,
        audit: AuditLog,
        clock: Clock,
    ) -> None:
        self._db = db
        self._boards = boards
        self._scores = scores
        self._index = index
        self._players = players
        self._sessions = sessions
        self._audit = audit
        self._clock = clock
        self._sweeps: set[asyncio.Task[None]] = set()

    async def remove_entry(
        self, board_id: str, player_id: str, period: str | None, actor: str
    ) -> None:
        """Delete one entry (404 without one); the ranks below it close up."""
        board = await self._boards.get(board_id)
        player_id = canonical_player_id(player_id)
        start = resolve_period(board.reset, period, self._clock())
        async with self._db.transaction() as conn:
            removed = await self._scores.delete_entry(conn, board.id, start, player_id)
            if removed is None:
                raise NotFoundError(f"player {player_id!r} has no entry on {board.id!r}")
            await self._audit.record(
                conn,
                actor=actor,
                action="entry.remove",
                target=f"leaderboard:{board.id}/player:{player_id}",
                details={"period": public_period(start), "score": removed.score},
            )
        await self._index.remove(board, start, player_id, announce=True)
        await self._index.results.changed(board, start)  # an ended period's final ranks

    async def ban(self, player_id: str, reason: str | None, actor: str) -> None:
        """Hide the player's entries everywhere, end their sessions, refuse their scores."""
        player_id = canonical_player_id(player_id)
        async with self._db.transaction() as conn:
            await self._players.ban(conn, player_id, reason)
            entries = await self._scores.set_hidden(conn, player_id, hidden=True)
            await self._audit.record(
                conn,
                actor=actor,
                action="player.ban",
                target=f"player:{player_id}",
                details={"reason": reason, "entries": len(entries)},
            )
            # Before the commit: if Redis cannot end them, nothing is banned (503).
            await self._sessions.end_all(player_id)
        periods = [(board_id, period) for board_id, period, _, _ in entries]
        await self._take_out_everywhere(player_id, periods)
        task = asyncio.create_task(self._sweep_later(player_id, periods))
        self._sweeps.add(task)
        task.add_done_callback(self._sweeps.discard)

    async def unban(self, player_id: str, actor: str) -> None:
        """Show the player's entries again, each where its score and sequence rank it.

        Each entry that comes back is announced (``entry_restored``), as a ban announced
        each that went (``entry_removed``).
        """
        player_id = canonical_player_id(player_id)
        async with self._db.transaction() as conn:
            if not await self._players.unban(conn, player_id):
                return  # not banned: nothing to do (and nothing to audit)
            entries = await self._scores.set_hidden(conn, player_id, hidden=False)
            await self._audit.record(
                conn,
                actor=actor,
                action="player.unban",
                target=f"player:{player_id}",
                details={"entries": len(entries)},
            )
        for board_id, period, score, seq in entries:
            try:
                board = await self._boards.get(board_id)
            except NotFoundError:
                continue  # the board went meanwhile
            with contextlib.suppress(IndexNotReadyError, NotFoundError):
                # No index now: the next rebuild reads the entry from Postgres.
                await self._index.restore(board, period, player_id, score, seq)
            await self._index.results.changed(board, period)

    async def close(self) -> None:
        await stop_tasks(list(self._sweeps))

    async def _take_out_everywhere(self, player_id: str, periods: list[tuple[str, date]]) -> None:
        for board_id, period in periods:
            try:
                board = await self._boards.get(board_id)
                await self._index.remove(board, period, player_id, announce=True)
                await self._index.results.changed(board, period)
            except NotFoundError:
                continue  # the board went meanwhile

    async def _sweep_later(self, player_id: str, periods: list[tuple[str, date]]) -> None:
        await asyncio.sleep(SECOND_SWEEP_SECONDS)
        try:
            if not await self._players.is_banned(player_id):
                return  # unbanned meanwhile (by any worker): the entries stay
            for board_id, period in periods:
                board = await self._boards.get(board_id)
                await self._index.remove(board, period, player_id)
        except _SWEEP_STOPS as exc:  # the index check takes them out later
            logger.info("second sweep of banned player %s stopped: %s", player_id, exc)
