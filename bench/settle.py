"""Let the machine settle before a step that measures tails (the fan-out).

The big boards' loads (millions of rows by COPY) leave Postgres work to do after them: a
checkpoint flushing what the loads dirtied, and autovacuum over the new tables. A step
begun meanwhile measured that, not the service: in two full runs the fan-out's first step
had submissions of 1-3 s in its middle, with Postgres and Redis using twice the CPU of
the next step at half its rate, while the same step alone, or after a pause, had none
(docs/decisions.md D-049). So before such a step the benchmark asks for a checkpoint and
waits until no autovacuum worker runs and the machine is nearly idle (at most
``MAX_WAIT_S``); the report says how long that took.
"""

from __future__ import annotations

import time
from typing import TypedDict

import asyncpg
import psutil

MAX_WAIT_S = 120.0
IDLE_BELOW = 0.25  # the machine's CPU use (of all its cores) that counts as idle
IDLE_FOR_S = 3.0

AUTOVACUUM = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"


class Settled(TypedDict):
    checkpoint_s: float  # how long CHECKPOINT took
    waited_s: float  # then, until no autovacuum ran and the machine was idle
    idle: bool  # False: MAX_WAIT_S passed first
    busy_before: float  # the machine's CPU use (0-1) in the second before


async def settle(db_url: str) -> Settled:
    busy_before = psutil.cpu_percent(interval=1.0) / 100
    conn = await asyncpg.connect(db_url)
    try:
        t0 = time.monotonic()
        await conn.execute("CHECKPOINT")
        checkpoint_s = time.monotonic() - t0
        t1 = time.monotonic()
        idle_since: float | None = None
        while time.monotonic() - t1 < MAX_WAIT_S:
            busy = psutil.cpu_percent(interval=1.0) / 100
            vacuuming = int(await conn.fetchval(AUTOVACUUM))
            now = time.monotonic()
            if busy < IDLE_BELOW and not vacuuming:
                idle_since = idle_since or now
                if now - idle_since >= IDLE_FOR_S:
                    return Settled(
                        checkpoint_s=checkpoint_s,
                        waited_s=now - t1,
                        idle=True,
                        busy_before=busy_before,
                    )
            else:
                idle_since = None
        return Settled(
            checkpoint_s=checkpoint_s,
            waited_s=time.monotonic() - t1,
            idle=False,
            busy_before=busy_before,
        )
    finally:
        await conn.close()
