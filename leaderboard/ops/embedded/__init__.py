"""Embedded default servers: a PostgreSQL 18 and a Valkey 8 from PyPI wheels.

``leaderboard serve`` starts them when ``LEADERBOARD_DATABASE_URL`` /
``LEADERBOARD_REDIS_URL`` are unset, keeps their data under ``LEADERBOARD_DATA_DIR`` and
stops them when it stops. Both run as child processes in their own session (Ctrl-C
reaches only ``serve``, which stops them in order) with a parent-death signal, so not
even a ``kill -9`` of ``serve`` leaves a server behind.
"""

from leaderboard.ops.embedded.postgres import EmbeddedPostgres
from leaderboard.ops.embedded.process import (
    DataDirBusyError,
    DataDirLock,
    EmbeddedServerError,
    EmbeddedUnavailableError,
)
from leaderboard.ops.embedded.valkey import EmbeddedValkey

__all__ = [
    "DataDirBusyError",
    "DataDirLock",
    "EmbeddedPostgres",
    "EmbeddedServerError",
    "EmbeddedUnavailableError",
    "EmbeddedValkey",
]
