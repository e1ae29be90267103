"""The staged partitioning migration (db/pending/scores_partitioned.sql), for tests.

It is not in db/migrations yet: a migration must keep the previous release working, and
the release before this one read ``xmax`` in the group-commit statement's RETURNING,
which Postgres 15 refuses on a partitioned table (docs/postgres.md, "What is left").
Tests apply it after the shipped migrations.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from leaderboard.ops.migrations import default_directory, discover

STAGED = Path(__file__).resolve().parents[1] / "db" / "pending" / "scores_partitioned.sql"


def with_partitioning(directory: Path) -> Path:
    """The shipped migrations plus the staged one after the highest number, in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in default_directory().glob("*.sql"):
        shutil.copy(path, directory / path.name)
    next_version = max(m.version for m in discover()) + 1  # numbers may have gaps (D-032)
    shutil.copy(STAGED, directory / f"{next_version:04d}_scores_partitioned.sql")
    return directory
