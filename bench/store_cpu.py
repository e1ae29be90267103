"""The CPU that Postgres and Redis spend on the service's requests, beside the service's own.

**Postgres:** the backend processes serving the benchmark's database. A thread with a
connection of its own lists them in ``pg_stat_activity`` (pid, datname) four times a
second and reads each one's CPU (user + system, psutil), keeping the last value seen: a
backend that exits during a run keeps what it had spent at its last sample (at most a
quarter of a second is lost), and one that starts counts from zero. Backends of other
databases (other work on a shared server) and the server's background processes (WAL
writer, checkpointer, autovacuum: shared by every database) are not counted.

**Redis:** ``INFO cpu`` (used_cpu_user + used_cpu_sys) of the whole redis-server: a Redis
shared with others counts their work too. Each reading says how many clients of other
dbs were connected at most since the last one, so the report can say when that was so.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass

import asyncpg
import psutil
from redis.asyncio import Redis

INTERVAL_S = 0.25
# A query's parallel workers serve the database as its backend does (a parallel scan runs
# on three processes); left out, their CPU would not count.
_BACKENDS = """
    SELECT pid FROM pg_stat_activity
    WHERE datname = $1 AND backend_type IN ('client backend', 'parallel worker')
      AND pid <> pg_backend_pid()
"""


@dataclass(frozen=True, slots=True)
class StoreReading:
    """Cumulative CPU seconds so far (compare two readings)."""

    postgres_s: float  # every backend of the database ever seen, at its last sample
    redis_s: float  # the whole redis-server
    backends: int  # backends of the database at the last sample
    redis_other_clients: int  # most clients of other Redis dbs seen since the last reading


@dataclass(frozen=True, slots=True)
class StoreCpu:
    """What Postgres and Redis spent between two readings."""

    postgres_s: float
    redis_s: float
    backends: int
    redis_other_clients: int

    @staticmethod
    def between(before: StoreReading, after: StoreReading) -> StoreCpu:
        return StoreCpu(
            postgres_s=after.postgres_s - before.postgres_s,
            redis_s=after.redis_s - before.redis_s,
            backends=max(before.backends, after.backends),
            redis_other_clients=after.redis_other_clients,
        )


class StoreMeter:
    """Samples in a thread of its own; ``read()`` returns a sample taken after the call.

    The thread samples every ``INTERVAL_S`` and at once when ``read()`` asks: a reading
    costs a few milliseconds, not an interval.
    """

    def __init__(self, db_url: str, db_name: str, redis_url: str, redis_db: int) -> None:
        self._db_url, self._db_name = db_url, db_name
        self._redis_url, self._redis_db = redis_url, redis_db
        self._cpu: dict[tuple[int, float], float] = {}  # (pid, start time) → CPU s
        self._procs: dict[int, psutil.Process] = {}
        self._last = StoreReading(0.0, 0.0, 0, 0)
        self._others = 0  # most other-db clients since the last read()
        self._samples = 0
        self._sampling = False
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()  # read(): sample now, do not wait for the interval
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run()), name="store-cpu", daemon=True
        )
        self._thread.start()
        self.read()  # the first sample: connected, and the figures start from here

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def read(self, timeout: float = 10.0) -> StoreReading:
        """The cumulative figures of a sample begun after this call."""
        with self._cond:
            # A sample under way may have begun before the call: then the next one.
            wanted = self._samples + (2 if self._sampling else 1)
            self._wake.set()
            if not self._cond.wait_for(
                lambda: self._samples >= wanted or self._error is not None, timeout
            ):
                raise RuntimeError("the Postgres/Redis CPU sampler stopped answering")
            if self._error is not None:
                raise RuntimeError(f"the Postgres/Redis CPU sampler failed: {self._error!r}")
            reading = StoreReading(
                self._last.postgres_s, self._last.redis_s, self._last.backends, self._others
            )
            self._others = 0
            return reading

    async def _run(self) -> None:
        try:
            conn = await asyncpg.connect(self._db_url)
        except BaseException as e:
            with self._cond:
                self._error = e
                self._cond.notify_all()
            return
        redis = Redis.from_url(self._redis_url, decode_responses=True)
        try:
            while not self._stop.is_set():
                await self._sample(conn, redis)
                # Nothing else runs on this thread's loop: blocking it here is harmless.
                self._wake.wait(INTERVAL_S)
                self._wake.clear()
        except BaseException as e:
            with self._cond:
                self._error = e
                self._cond.notify_all()
        finally:
            with contextlib.suppress(Exception):
                await conn.close()
            await redis.aclose()

    async def _sample(self, conn: asyncpg.Connection, redis: Redis) -> None:
        with self._cond:
            self._sampling = True
        pids = [int(r["pid"]) for r in await conn.fetch(_BACKENDS, self._db_name)]
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                proc = self._procs.get(pid)
                if proc is None or not proc.is_running():  # new, or the pid was reused
                    proc = self._procs[pid] = psutil.Process(pid)
                t = proc.cpu_times()
                self._cpu[(pid, proc.create_time())] = t.user + t.system
        info = await redis.info("cpu")
        redis_s = float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        others = sum(
            1
            for c in await redis.client_list()
            if int(c.get("db", self._redis_db)) != self._redis_db
        )
        with self._cond:
            self._last = StoreReading(sum(self._cpu.values()), redis_s, len(pids), 0)
            self._others = max(self._others, others)
            self._samples += 1
            self._sampling = False
            self._cond.notify_all()
