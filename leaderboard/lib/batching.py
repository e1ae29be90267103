"""Coalesce concurrent calls into batches: one round trip for many requests.

A worker is CPU-bound on its round trips (docs/benchmarks.md: ~240 µs of Python per
redis-py call, ~170 µs per asyncpg query), not on Redis or Postgres. Under load many
requests wait on the same kind of call at once; a :class:`Batcher` sends them together
(a Redis pipeline, one SQL statement) and hands each caller its own result. Unloaded, a
call waits one event-loop turn at most: the batch is sent as soon as the loop gets to it.

Batches go out one after another up to ``max_in_flight`` at a time; while that many are
out, new calls queue and leave together in the next batch (group commit). A call that
finds nothing queued or out goes at once, in its caller's task, without waiting a turn.

With ``overlap_after`` a batch goes out beside others only once the youngest of them has
been out that long: batches follow one another, each taking everything that queued
meanwhile (the larger the batch, the less each call costs), and a batch that is stuck
(a lock wait, a slow server) holds the queue back for no longer than that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from leaderboard.lib.metrics import BATCH_SIZE, BUFFER

# The group commits' ``overlap_after`` (scores/writer.py, leagues/writer.py): under load
# their statements follow one another, each taking what queued meanwhile (at 64
# connections ~9 submissions a statement instead of ~5: Postgres' CPU per submission about
# a quarter lower, docs/decisions.md D-042), and one stuck on a row lock holds the others
# back no longer than this. Statements take a few ms under load here.
GROUP_COMMIT_OVERLAP_SECONDS = 0.025

Item = TypeVar("Item")
Result = TypeVar("Result")

# A batch function returns one outcome per item: its result or the exception to raise.
RunBatch = Callable[[list[Item]], Awaitable[Sequence[Result | BaseException]]]


class Batcher(Generic[Item, Result]):
    """Runs ``run_batch`` over queued items; ``await batcher(item)`` is that item's result.

    ``run_batch`` gets at most ``max_batch`` items and returns one outcome per item, in
    order: a result, or an exception that is raised to that item's caller alone. An
    exception raised by ``run_batch`` itself is raised to every caller of the batch.
    """

    def __init__(
        self,
        run_batch: RunBatch[Item, Result],
        *,
        name: str,
        max_batch: int = 64,
        max_in_flight: int = 2,
        overlap_after: float | None = None,
    ) -> None:
        self._run_batch = run_batch
        self._sizes = BUFFER.histogram(BATCH_SIZE, name)
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._in_flight = 0
        self._overlap_after = overlap_after
        # When each batch out now left (the loop's clock), oldest first.
        self._sent_at: list[float] = []
        self._overlap_timer: asyncio.TimerHandle | None = None
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches_sent = 0
        self.items_sent = 0

    @property
    def queued(self) -> int:
        """Calls waiting for a batch to take them (not yet sent)."""
        return len(self._queue)

    async def __call__(self, item: Item) -> Result:
        if not (self._in_flight or self._queue or self._scheduled):
            return await self._run_alone(item)
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._schedule()
        return await future

    async def many(self, items: list[Item]) -> list[Result | BaseException]:
        """The outcomes of ``items``, sent in one batch: each one's error in its place.

        For a caller that needs several calls answered together (one round trip): gathered
        coroutines would each need a task, and the first would go alone while the others
        waited for it to come back. With nothing out, they go now from the caller's task;
        else they queue together and leave in the next batch.
        """
        if not (self._in_flight or self._queue or self._scheduled) and (
            len(items) <= self._max_batch
        ):
            sent_at = self._sent()
            self.items_sent += len(items)
            self._sizes.observe(len(items))
            try:
                return list(await self._run_batch(items))
            except Exception as exc:  # every item of the batch sees it
                return [exc] * len(items)
            finally:
                self._back(sent_at)
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Result]] = [loop.create_future() for _ in items]
        self._queue.extend(zip(items, futures, strict=True))
        self._schedule()
        # Futures, not coroutines: gathering them starts no task.
        return list(await asyncio.gather(*futures, return_exceptions=True))

    async def _run_alone(self, item: Item) -> Result:
        """Nothing is waiting or out: send it now, from the caller's own task.

        Queued, it would wait three turns of the event loop (the flush, the batch's task,
        then waking its caller), and under load every turn waits behind every other ready
        request: a submission has four such steps, which is how reads starved it. Calls
        that arrive while this one is out queue and leave together when it is back.
        """
        (outcome,) = await self.many([item])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _sent(self) -> float:
        """A batch goes out now; returns when, for :meth:`_back`."""
        now = asyncio.get_running_loop().time()
        self._in_flight += 1
        self.batches_sent += 1
        self._sent_at.append(now)
        return now

    def _back(self, sent_at: float) -> None:
        """The batch sent at ``sent_at`` is back: the next one may go."""
        self._in_flight -= 1
        self._sent_at.remove(sent_at)
        self._schedule()

    def _may_send(self) -> bool:
        """Whether another batch may go out now; if only later, a timer asks again then."""
        if self._in_flight >= self._max_in_flight:
            return False
        if not self._in_flight or self._overlap_after is None:
            return True
        loop = asyncio.get_running_loop()
        wait = self._sent_at[-1] + self._overlap_after - loop.time()
        if wait <= 0:
            return True
        if self._overlap_timer is None:
            self._overlap_timer = loop.call_later(wait, self._overlap_due)
        return False

    def _overlap_due(self) -> None:
        self._overlap_timer = None
        self._schedule()

    def _schedule(self) -> None:
        if self._scheduled or not self._queue:
            return
        if not self._may_send():
            return
        self._scheduled = True
        # One loop turn later: every call made in this turn joins the batch.
        asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        # A caller cancelled while queued (shutdown) must not have its item run: a
        # submission would commit with nobody left to put it in the index.
        self._queue = [(item, future) for item, future in self._queue if not future.done()]
        if not self._queue or not self._may_send():
            return
        batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        sent_at = self._sent()
        self.items_sent += len(batch)
        self._sizes.observe(len(batch))
        task = asyncio.create_task(self._run(batch, sent_at))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._schedule()

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]], sent_at: float) -> None:
        try:
            outcomes = await self._run_batch([item for item, _ in batch])
        except asyncio.CancelledError:  # shutting down
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # every caller of the batch sees it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        else:
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():  # the caller was cancelled
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
        finally:
            self._back(sent_at)
