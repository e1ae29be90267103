"""The Batcher: concurrent calls coalesced into batches, each caller its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from leaderboard.lib.batching import Batcher
from tests.helpers import async_wait_until

# --------------------------------------------------------------------------------------
# Batcher


async def test_concurrent_calls_share_batches_and_each_gets_its_own_result() -> None:
    batches: list[list[int]] = []

    async def double(items: list[int]) -> list[int]:
        batches.append(items)
        await asyncio.sleep(0)  # a round trip
        return [2 * item for item in items]

    batcher: Batcher[int, int] = Batcher(double, name="test", max_batch=16, max_in_flight=1)
    results = await asyncio.gather(*(batcher(i) for i in range(100)))
    assert results == [2 * i for i in range(100)]
    assert sorted(item for batch in batches for item in batch) == list(range(100))
    assert max(len(batch) for batch in batches) == 16  # capped
    # The first call found nothing out and went alone, at once; the other 99 queued
    # behind it and left in ceil(99 / 16) batches, not 99 round trips.
    assert [len(batch) for batch in batches] == [1, 16, 16, 16, 16, 16, 16, 3]
    assert (batcher.batches_sent, batcher.items_sent) == (8, 100)


async def test_no_more_batches_than_allowed_are_out_at_once() -> None:
    out = peak = 0

    async def slow(items: list[int]) -> list[int]:
        nonlocal out, peak
        out += 1
        peak = max(peak, out)
        await asyncio.sleep(0.01)
        out -= 1
        return items

    batcher: Batcher[int, int] = Batcher(slow, name="test", max_batch=4, max_in_flight=2)
    assert await asyncio.gather(*(batcher(i) for i in range(40))) == list(range(40))
    assert peak == 2


async def test_an_item_error_reaches_its_caller_alone() -> None:
    async def check(items: list[int]) -> Sequence[int | BaseException]:
        return [ValueError(f"bad {item}") if item % 3 == 0 else item for item in items]

    batcher: Batcher[int, int] = Batcher(check, name="test")
    outcomes = await asyncio.gather(*(batcher(i) for i in range(9)), return_exceptions=True)
    assert [str(o) if isinstance(o, ValueError) else o for o in outcomes] == [
        "bad 0", 1, 2, "bad 3", 4, 5, "bad 6", 7, 8
    ]  # fmt: skip


async def test_a_batch_error_reaches_every_caller_of_that_batch_and_no_other() -> None:
    calls = 0

    async def fail_second(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)  # a round trip: the other calls queue meanwhile
        if calls == 2:  # the first batch of queued calls (the first call went alone)
            raise ConnectionError("down")
        return items

    batcher: Batcher[int, int] = Batcher(fail_second, name="test", max_batch=5, max_in_flight=1)
    outcomes = await asyncio.gather(*(batcher(i) for i in range(8)), return_exceptions=True)
    assert outcomes[0] == 0
    assert [type(o).__name__ for o in outcomes[1:6]] == ["ConnectionError"] * 5
    assert outcomes[6:] == [6, 7]
    assert await batcher(99) == 99  # and it goes on working


async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    release = asyncio.Event()

    async def wait(items: list[int]) -> list[int]:
        await release.wait()
        return items

    batcher: Batcher[int, int] = Batcher(wait, name="test")
    first = asyncio.create_task(batcher(1))
    second = asyncio.create_task(batcher(2))
    await asyncio.sleep(0.01)  # both are in the batch that waits
    first.cancel()
    release.set()
    assert await second == 2
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_call_with_nothing_out_goes_at_once_in_its_own_task() -> None:
    """No turn of the event loop between the call and its batch: the first thing the
    batch function sees is this caller's item, before any other task could run."""
    ran_in: list[asyncio.Task[Any] | None] = []

    async def note(items: list[int]) -> list[int]:
        ran_in.append(asyncio.current_task())
        return items

    batcher: Batcher[int, int] = Batcher(note, name="test")
    assert await batcher(7) == 7
    assert ran_in == [asyncio.current_task()]


async def test_a_caller_cancelled_while_queued_has_nothing_run() -> None:
    release = asyncio.Event()
    seen: list[int] = []

    async def record(items: list[int]) -> list[int]:
        seen.extend(items)
        await release.wait()
        return items

    batcher: Batcher[int, int] = Batcher(record, name="test", max_in_flight=1)
    first = asyncio.create_task(batcher(1))

    async def first_batch_out() -> bool:
        return seen == [1]

    await async_wait_until(first_batch_out, 5, "batch [1] to go out")
    queued = asyncio.create_task(batcher(2))  # these queue behind it (one in flight)
    kept = asyncio.create_task(batcher(3))

    async def both_queued() -> bool:
        return batcher.queued == 2

    await async_wait_until(both_queued, 5, "the next two calls to queue")
    queued.cancel()
    release.set()
    assert (await first, await kept) == (1, 3)
    assert seen == [1, 3]


def test_a_batch_splits_into_rounds_that_hold_each_key_once_in_arrival_order() -> None:
    from datetime import date

    from leaderboard.scores.writer import _rounds

    class Key:
        def __init__(self, key: str) -> None:
            self.key = (key, date(2024, 2, 29), "p")

    batch = [(i, Key(k)) for i, k in enumerate("abacaba")]
    rounds = _rounds(batch)  # type: ignore[arg-type]
    assert [[i for i, _ in round_] for round_ in rounds] == [[0, 1, 3], [2, 5], [4], [6]]
    for round_ in rounds:
        keys = [entry.key for _, entry in round_]
        assert len(keys) == len(set(keys)), "a statement touches a row once"
    assert _rounds([]) == []


async def test_with_overlap_after_a_batch_waits_for_the_one_out_while_it_is_young() -> None:
    """Under load batches follow one another (each takes what queued meanwhile); only a
    batch out longer than ``overlap_after`` lets the next go beside it."""
    release: dict[int, asyncio.Event] = {}
    seen: list[list[int]] = []
    went: list[float] = []  # when each batch went out

    async def hold(items: list[int]) -> list[int]:
        seen.append(items)
        went.append(asyncio.get_running_loop().time())
        release[items[0]] = event = asyncio.Event()
        await event.wait()
        return items

    batcher: Batcher[int, int] = Batcher(hold, name="test", max_in_flight=3, overlap_after=0.5)
    first = asyncio.create_task(batcher(1))

    async def out(n: int) -> bool:
        return len(seen) == n

    await async_wait_until(lambda: out(1), 5, "the first batch to go out")
    queued = [asyncio.create_task(batcher(i)) for i in (2, 3, 4)]
    for _ in range(5):  # several turns of the loop: without the rule they would go now
        await asyncio.sleep(0)
    assert seen == [[1]]  # the one out is young: nothing went beside it
    assert batcher.queued == 3
    # Stuck past overlap_after: what queued goes beside it, as one batch.
    await async_wait_until(lambda: out(2), 5, "the queued calls to go beside the stuck one")
    assert went[1] - went[0] >= 0.5
    assert seen[1] == [2, 3, 4]
    release[2].set()
    release[1].set()
    assert await asyncio.gather(first, *queued) == [1, 2, 3, 4]


async def test_with_overlap_after_the_next_batch_goes_as_soon_as_the_one_out_is_back() -> None:
    release = asyncio.Event()
    seen: list[list[int]] = []

    async def hold_first(items: list[int]) -> list[int]:
        seen.append(items)
        if items == [1]:
            await release.wait()
        return items

    batcher: Batcher[int, int] = Batcher(hold_first, name="test", max_in_flight=3, overlap_after=60)
    first = asyncio.create_task(batcher(1))

    async def first_out() -> bool:
        return seen == [[1]]

    await async_wait_until(first_out, 5, "the first batch to go out")
    queued = [asyncio.create_task(batcher(i)) for i in (2, 3)]
    await asyncio.sleep(0)
    release.set()  # back long before a minute: the queue goes at once, in one batch
    assert await asyncio.wait_for(asyncio.gather(first, *queued), 5) == [1, 2, 3]
    assert seen == [[1], [2, 3]]


async def test_many_sends_its_items_in_one_batch_each_outcome_in_its_place() -> None:
    batches: list[list[int]] = []

    async def check(items: list[int]) -> Sequence[int | BaseException]:
        batches.append(items)
        await asyncio.sleep(0)
        return [ValueError(f"bad {item}") if item == 2 else 10 * item for item in items]

    batcher: Batcher[int, int] = Batcher(check, name="test", max_in_flight=1)
    outcomes = await batcher.many([1, 2, 3])
    assert [str(o) if isinstance(o, ValueError) else o for o in outcomes] == [10, "bad 2", 30]
    assert batches == [[1, 2, 3]]  # nothing was out: one batch, at once
    # With a batch out, they queue together and leave together after it.
    first = asyncio.ensure_future(batcher(7))
    await asyncio.sleep(0)
    assert batcher.batches_sent == 2  # the single call went alone and is out
    together = await batcher.many([4, 5])
    assert await first == 70
    assert together == [40, 50]
    assert batches[1:] == [[7], [4, 5]]


async def test_many_returns_a_failed_batchs_error_for_each_item() -> None:
    async def down(items: list[int]) -> list[int]:
        raise ConnectionError("gone")

    batcher: Batcher[int, int] = Batcher(down, name="test")
    outcomes = await batcher.many([1, 2])
    assert [type(o) for o in outcomes] == [ConnectionError, ConnectionError]
