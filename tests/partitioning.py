"""The staged partitioning migration (db/pending/scores_partitioned.sql), for tests.

It is not in db/migrations yet: the group-commit statement must first stop reading
``xmax`` in RETURNING, which Postgres 15 refuses on a partitioned table (docs/postgres.md,
"What is left"). Tests apply it after the shipped migrations, and run the statement with
exactly that one change (:func:`upserts_without_xmax`), which is what it will be.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from leaderboard.boards import score_upsert_sql
from leaderboard.boards.models import Operator, Order
from leaderboard.ops.migrations import default_directory, discover

STAGED = Path(__file__).resolve().parents[1] / "db" / "pending" / "scores_partitioned.sql"
XMAX = "xmax = 0 AS inserted"
WITHOUT_XMAX = "previous_score IS NULL AS inserted"


def with_partitioning(directory: Path) -> Path:
    """The shipped migrations plus the staged one as the next number, in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in default_directory().glob("*.sql"):
        shutil.copy(path, directory / path.name)
    next_version = len(discover()) + 1
    shutil.copy(STAGED, directory / f"{next_version:04d}_scores_partitioned.sql")
    return directory


@contextmanager
def upserts_without_xmax() -> Iterator[None]:
    """The group-commit statement as it must become before the partitioning ships.

    On an insert ``previous_score`` is NULL, on an update it is the replaced score (never
    NULL), so ``previous_score IS NULL`` says what ``xmax = 0`` said.
    """
    if all(WITHOUT_XMAX in sql for sql in score_upsert_sql.UPSERTS.values()):
        yield  # already (LEADERBOARD_TEST_PARTITIONED=1 does it for the session)
        return
    original = score_upsert_sql.upsert_sql

    def upsert_sql(operator: Operator, order: Order) -> str:
        return original(operator, order).replace(XMAX, WITHOUT_XMAX)

    with pytest.MonkeyPatch.context() as patch:
        for key, sql in score_upsert_sql.UPSERTS.items():
            assert XMAX in sql, "the statement changed: see docs/postgres.md, What is left"
            patch.setitem(score_upsert_sql.UPSERTS, key, sql.replace(XMAX, WITHOUT_XMAX))
        # Tests that run the statement themselves imported the function by name.
        for module in list(sys.modules.values()):
            if getattr(module, "upsert_sql", None) is original:
                patch.setattr(module, "upsert_sql", upsert_sql)
        yield
