"""The banner the README shows is the one `leaderboard serve` prints (a first start in an
empty directory, as the README describes it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leaderboard import __version__
from leaderboard.ops.migrations import discover
from tests.paths import REPO
from tests.procs import clean_env, running_service

pytestmark = pytest.mark.slow

README = (REPO / "README.md").read_text()
_SERVER_URL = re.compile(r"((?:postgresql://postgres@|redis://)127\.0\.0\.1):\d+")


def readme_banner() -> list[str]:
    start = README.index("```\nLeaderboard service ") + len("```\n")
    return README[start : README.index("\n```", start)].splitlines()


def comparable(lines: list[str]) -> list[str]:
    """The lines with what differs from run to run set aside: the embedded servers' ports
    and the admin token (in full on a terminal, else the file that holds it)."""
    out = []
    for line in lines:
        line = _SERVER_URL.sub(r"\1:<port>", line)
        if line.startswith("  Admin token  "):
            assert ".leaderboard/admin_token" in line, line
            line = "  Admin token  <token or file>"
        out.append(line)
    return out


def test_the_readme_shows_the_banner_serve_prints(tmp_path: Path) -> None:
    # Embedded servers, data in ./.leaderboard; a free port (8000 may be taken here), which
    # changes what the README says it changes.
    with running_service(tmp_path, clean_env()) as service:
        port = int(service.base.rsplit(":", 1)[1])
    output = service.output
    assert service.process.returncode == 0, output
    start = output.index("Leaderboard service ")
    end = output.index("Press Ctrl-C to stop.", start) + len("Press Ctrl-C to stop.")
    printed = output[start:end].replace(f"{tmp_path.resolve()}/", "").splitlines()

    # The README's, on this run's port: its URLs, and `demo --url` as it says.
    expected = [
        line.replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace(
            "`uv run leaderboard demo`", f"`uv run leaderboard demo --url http://127.0.0.1:{port}`"
        )
        for line in readme_banner()
    ]
    assert comparable(printed) == comparable(expected)
    assert expected[0] == f"Leaderboard service {__version__}"
    known = discover()
    assert f"`up to date (latest {known[-1].version:04d}_{known[-1].name})`" in README
