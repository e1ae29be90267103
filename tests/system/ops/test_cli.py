from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.procs import clean_env


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leaderboard", *args],
        env=clean_env(**env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_top_level_help_lists_the_commands(tmp_path: Path) -> None:
    result = run(["--help"], tmp_path)
    assert result.returncode == 0
    for command in ("serve", "migrate", "demo", "watch", "rebuild"):
        assert command in result.stdout
    assert "LEADERBOARD_DATABASE_URL" in result.stdout


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("serve", ["--host", "--port", "--workers", "embedded"]),
        ("migrate", ["migrations"]),
        ("demo", ["--players", "default: 300", "--duration", "--url", "--board"]),
        ("watch", ["--from-start", "stderr"]),
    ],
)
def test_command_help(tmp_path: Path, command: str, expected: list[str]) -> None:
    result = run([command, "--help"], tmp_path)
    assert result.returncode == 0
    for text in expected:
        assert text in result.stdout


def test_version(tmp_path: Path) -> None:
    result = run(["--version"], tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("leaderboard, version ")


def test_migrate_needs_a_database_url(tmp_path: Path) -> None:
    result = run(["migrate"], tmp_path)
    assert result.returncode == 2
    assert "LEADERBOARD_DATABASE_URL is not set" in result.stderr


def test_migrate_an_up_to_date_database(tmp_path: Path, database_url: str) -> None:
    result = run(["migrate"], tmp_path, LEADERBOARD_DATABASE_URL=database_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "database is up to date"


def test_migrate_an_unreachable_database(tmp_path: Path) -> None:
    result = run(
        ["migrate"], tmp_path, LEADERBOARD_DATABASE_URL="postgresql://postgres@127.0.0.1:1/x"
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: postgres is unavailable")
    assert "Traceback" not in result.stderr


def test_serve_rejects_a_bad_port_option(tmp_path: Path) -> None:
    result = run(["serve", "--port", "70000"], tmp_path)
    assert result.returncode == 2
    assert "--port" in result.stderr
