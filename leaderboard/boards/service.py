"""Leaderboard administration, and the board configuration cache submissions read."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import msgspec

from leaderboard.audit.repository import AuditLog
from leaderboard.boards.models import Board, BoardCreate, BoardPatch
from leaderboard.boards.repository import BoardRepository
from leaderboard.lib.clock import Clock
from leaderboard.lib.db import Database
from leaderboard.lib.errors import InvalidInputError, NotFoundError
from leaderboard.lib.invalidation import Invalidations
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import REDIS_OUTAGE_ERRORS, AnyRedis
from leaderboard.lib.validation import BOARD_ID, check_metadata

CONFIG_TTL_SECONDS = 3600
# A worker may use a board it read this long ago; a PATCH drops every worker's copy at once
# (lib/invalidation.py), create and delete let them run out.
LOCAL_TTL_SECONDS = 2.0
INVALIDATION_TOPIC = "board"


class BoardService:
    """Board configs: Postgres, cached in Redis (1 h) and in the worker (2 s).

    Submissions and reads never query Postgres for a board they saw recently, and keep
    working from the caches while Postgres is down.
    """

    def __init__(
        self,
        db: Database,
        repository: BoardRepository,
        redis: AnyRedis,
        keys: Keys,
        audit: AuditLog,
        clock: Clock,
        invalidations: Invalidations,
    ) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock
        self._repository = repository
        self._redis = redis
        self._keys = keys
        self._local: dict[str, tuple[float, Board | None]] = {}
        # Bumped whenever copies are dropped: a load that began before must not be kept.
        self._generation = 0
        self._invalidations = invalidations
        invalidations.register(INVALIDATION_TOPIC, self._drop_copy, self._drop_all_copies)
        self.forget_index: list[Callable[[str], Awaitable[None]]] = []
        """Called with a board's id when it is made or deleted, before the commit (and
        once more after a delete): whatever indexes the board forgets it (the rank index:
        server wiring). A failure rolls the change back."""

    async def create(self, spec: BoardCreate, actor: str) -> Board:
        check_board_rules(spec, self._clock(), ends_at_given=spec.ends_at is not None)
        async with self._db.transaction() as conn:
            board = await self._repository.create(conn, spec, self._clock())  # 409 first
            await self._audit.record(
                conn,
                actor=actor,
                action="leaderboard.create",
                target=f"leaderboard:{board.id}",
                details={"operator": board.operator, "order": board.order, "reset": board.reset},
            )
            # Leftovers of an earlier board with this id (deleted while Redis was away)
            # must not become this board's index; before the commit, so a Redis outage
            # leaves no board behind.
            await self._forget(spec.id)
        self._local.pop(board.id, None)
        return board

    async def list(self) -> list[Board]:
        return await self._repository.all()

    async def get(self, board_id: str) -> Board:
        if not BOARD_ID.fullmatch(board_id):
            raise NotFoundError(f"no leaderboard {board_id[:64]!r}")
        cached = self._local.get(board_id)
        if cached is not None and cached[0] > time.monotonic():
            board = cached[1]
        else:
            generation = self._generation
            board = await self._load(board_id)
            if generation == self._generation:
                self._local[board_id] = (time.monotonic() + LOCAL_TTL_SECONDS, board)
        if board is None:
            raise NotFoundError(f"no leaderboard {board_id[:64]!r}")
        return board

    async def update(self, board_id: str, patch: BoardPatch, actor: str) -> Board:
        """Change a board's rules; every worker applies them from the answer on.

        Before the commit, the Redis copy is replaced and every worker drops its own
        (``Invalidations.announce``): a Redis outage rolls the change back (503), and no
        worker serves the old rules once the 200 is sent.
        """
        if not BOARD_ID.fullmatch(board_id):
            raise NotFoundError(f"no leaderboard {board_id[:64]!r}")
        changes = patch.changes()
        async with self._db.transaction() as conn:
            current = await self._repository.locked(conn, board_id)
            if current is None:
                raise NotFoundError(f"no leaderboard {board_id[:64]!r}")
            wanted = msgspec.structs.replace(current, **changes)
            if (wanted.ledger_days == 0) != (current.ledger_days == 0):
                raise InvalidInputError(
                    "ledger_days",
                    "a board's ledger is kept or not from its creation: 1 to 3650 on a board "
                    "with one; 0 stays 0",
                )
            check_board_rules(wanted, self._clock(), ends_at_given="ends_at" in changes)
            board = await self._repository.update_rules(conn, wanted)
            await self._audit.record(
                conn,
                actor=actor,
                action="leaderboard.update",
                target=f"leaderboard:{board_id}",
                details={
                    "changes": {
                        name: {"from": getattr(current, name), "to": getattr(board, name)}
                        for name in changes
                    }
                },
            )
            config_key = self._keys.board_config(board_id)
            try:
                await self._redis.set(config_key, msgspec.json.encode(board), ex=CONFIG_TTL_SECONDS)
                await self._invalidations.announce(INVALIDATION_TOPIC, board_id)
            except BaseException:
                # The change will not commit: leave no copy of it (best effort).
                with contextlib.suppress(*REDIS_OUTAGE_ERRORS):
                    await self._redis.delete(config_key)
                raise
        return board

    def _drop_copy(self, board_id: str) -> None:
        """Drop this worker's copy of a board (its rules changed elsewhere or here)."""
        self._generation += 1
        self._local.pop(board_id, None)

    def _drop_all_copies(self) -> None:
        self._generation += 1
        self._local.clear()

    def with_state(self, board: Board) -> Board:
        """The board as the API shows it: with ``open`` for this moment."""
        return msgspec.structs.replace(board, open=board.is_open(self._clock()))

    async def delete(self, board_id: str, actor: str) -> None:
        if not BOARD_ID.fullmatch(board_id):
            raise NotFoundError(f"no leaderboard {board_id[:64]!r}")
        async with self._db.transaction() as conn:
            if not await self._repository.delete(conn, board_id):
                raise NotFoundError(f"no leaderboard {board_id[:64]!r}")
            await self._audit.record(
                conn, actor=actor, action="leaderboard.delete", target=f"leaderboard:{board_id}"
            )
            # Before the commit: if Redis cannot be cleaned, the board stays whole (503).
            await self._forget(board_id)
        self._local.pop(board_id, None)
        # A read between the unlink and the commit may have cached the config or rebuilt
        # an index from the rows still there: clear again (best effort; create() clears
        # leftovers too, and other workers' 2-second caches run out by themselves).
        with contextlib.suppress(*REDIS_OUTAGE_ERRORS):
            await self._forget(board_id)

    async def _load(self, board_id: str) -> Board | None:
        config_key = self._keys.board_config(board_id)
        try:
            raw = await self._redis.get(config_key)
        except REDIS_OUTAGE_ERRORS:
            raw = None
        if raw:
            return msgspec.json.decode(raw, type=Board)
        board = await self._repository.get(board_id)
        if board is not None:
            with contextlib.suppress(*REDIS_OUTAGE_ERRORS):
                # Only where nothing is: a PATCH's newer copy, written meanwhile, stays.
                await self._redis.set(
                    config_key, msgspec.json.encode(board), ex=CONFIG_TTL_SECONDS, nx=True
                )
        return board

    async def _forget(self, board_id: str) -> None:
        """The board's cached config and whatever indexes it go (see ``forget_index``)."""
        await self._redis.delete(self._keys.board_config(board_id))
        for forget in self.forget_index:
            await forget(board_id)


def check_board_rules(spec: BoardCreate | Board, now: datetime, *, ends_at_given: bool) -> None:
    """What a board's fields must agree on, beyond each field's own constraints.

    ``ends_at_given``: the request sets ``ends_at`` (an end already past is refused then;
    a board that ended may still be renamed).
    """
    check_metadata("metadata", spec.metadata)
    for name in ("starts_at", "ends_at"):
        moment = getattr(spec, name)
        if moment is not None and moment.utcoffset() is None:
            raise InvalidInputError(name, "must carry a UTC offset (e.g. 2030-01-01T00:00:00Z)")
    low, high = spec.min_score, spec.max_score
    if low is not None and high is not None and low > high:
        raise InvalidInputError("min_score", "must not be greater than max_score")
    starts, ends = spec.starts_at, spec.ends_at
    if starts is not None and ends is not None and starts >= ends:
        raise InvalidInputError("ends_at", "must be after starts_at")
    if ends_at_given and ends is not None and ends <= now:
        raise InvalidInputError("ends_at", "is already past")
    if spec.review != "none" and spec.ledger_days == 0:
        raise InvalidInputError(
            "ledger_days", "a board that reviews submissions needs a ledger (1 to 3650)"
        )
    if spec.review == "rules" and spec.review_jump is None and spec.review_top is None:
        raise InvalidInputError("review", "'rules' needs review_jump, review_top or both")
    if spec.keep_periods is not None and spec.reset == "never":
        raise InvalidInputError(
            "keep_periods", "only boards that reset (daily, weekly, monthly) drop old periods"
        )
