"""A bad setting stops `leaderboard serve` with one line, before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_start_up_stops_with_one_clear_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERBOARD_")}
    env["LEADERBOARD_PORT"] = "123456"
    result = subprocess.run(
        [sys.executable, "-m", "leaderboard", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: LEADERBOARD_PORT: Expected `int` <= 65535 (got '123456')"
    ]
    assert not (tmp_path / ".leaderboard").exists(), "nothing may start before settings are valid"
