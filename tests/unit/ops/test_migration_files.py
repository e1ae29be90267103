"""Migration files: found in order, badly numbered ones refused (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaderboard.ops.migrations import MigrationError, default_directory, discover


def write_migrations(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


def test_the_shipped_migrations_are_found_in_order() -> None:
    migrations = discover()
    versions = [m.version for m in migrations]
    assert versions == sorted(set(versions))
    assert versions[0] == 1
    assert default_directory().name in {"migrations", "sql_migrations"}


def test_a_number_taken_by_work_in_progress_may_be_missing(tmp_path: Path) -> None:
    """0003 lands before 0002 (another branch's): 0003 is applied, 0002 when it comes."""
    found = discover(write_migrations(tmp_path / "m", {"0001_a.sql": "", "0003_c.sql": ""}))
    assert [(m.version, m.name) for m in found] == [(1, "a"), (3, "c")]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"0001_a.sql": "", "0001_b.sql": ""}, "two migrations are numbered 0001"),
        ({"0000_a.sql": ""}, "start at 0001"),
        ({"1_a.sql": ""}, "NNNN_name.sql"),
        ({"0001_Bad-Name.sql": ""}, "NNNN_name.sql"),
    ],
)
def test_badly_numbered_files_are_refused(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    with pytest.raises(MigrationError, match=message):
        discover(write_migrations(tmp_path / "m", files))
