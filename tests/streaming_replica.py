"""A primary and a streaming replica of it, from the embedded Postgres' own binaries.

The primary is an embedded Postgres (its initdb allows replication connections from
127.0.0.1 with trust, and ``wal_level`` is ``replica`` by default); the standby is a
``pg_basebackup -R`` of it, started on a port of its own, in hot standby. Tests pause
its replay (``pg_wal_replay_pause()``) to make it lag, and stop it to make it fail.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from leaderboard.ops.embedded import EmbeddedPostgres
from leaderboard.ops.embedded.postgres import _binaries as embedded_binaries


@dataclass
class StreamingPair:
    primary: EmbeddedPostgres
    standby: EmbeddedPostgres

    def primary_url(self, database: str = "postgres") -> str:
        return self.primary.url.rsplit("/", 1)[0] + f"/{database}"

    def standby_url(self, database: str = "postgres") -> str:
        return self.standby.url.rsplit("/", 1)[0] + f"/{database}"


@contextmanager
def streaming_pair(directory: Path) -> Iterator[StreamingPair]:
    primary = EmbeddedPostgres(directory / "primary")
    primary.start()
    standby = EmbeddedPostgres(directory / "standby")
    try:
        _base_backup(primary, standby)
        standby.start()
        yield StreamingPair(primary, standby)
    finally:
        standby.stop()
        primary.stop()


def _base_backup(primary: EmbeddedPostgres, standby: EmbeddedPostgres) -> None:
    """``pg_basebackup -R``: a copy of the primary that starts as its standby."""
    assert primary.port is not None
    standby.data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        str(embedded_binaries() / "pg_basebackup"),
        "-D", str(standby.pgdata),
        "-h", "127.0.0.1",
        "-p", str(primary.port),
        "-U", "postgres",
        "-X", "stream",
        "-R",  # standby.signal and primary_conninfo: it starts as a streaming standby
        "--checkpoint=fast",
    ]  # fmt: skip
    # (As root, the files are root's here; EmbeddedPostgres.start hands them to the user
    # it runs the server as.)
    subprocess.run(argv, check=True, capture_output=True, timeout=120)


async def replayed(standby_url: str, primary_url: str, timeout: float = 30.0) -> None:
    """Wait until the standby has replayed everything the primary wrote before the call."""
    primary = await asyncpg.connect(primary_url)
    try:
        target = await primary.fetchval("SELECT pg_current_wal_insert_lsn()")
    finally:
        await primary.close()
    standby = await asyncpg.connect(standby_url)
    try:
        deadline = time.monotonic() + timeout
        while not await standby.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", target):
            if time.monotonic() > deadline:
                raise AssertionError(f"the standby did not replay up to {target} in {timeout} s")
            await asyncio.sleep(0.02)
    finally:
        await standby.close()
