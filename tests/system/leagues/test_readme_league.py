"""The README's weekly league walk-through, run as it is written against a real serve.

Each `$ ` command of the block (with its continuation lines) runs in bash, one after the
other, with the variables the README's earlier steps set (`$ADMIN_TOKEN`, a player
`Ada`'s `$TOKEN` and `$PLAYER`, whose id the README writes `7c0e…`); only the port
differs. What the README shows under a command must match what it printed, `…` standing
for anything.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_ADMIN_TOKEN
from tests.paths import REPO
from tests.procs import running_service, service_env

pytestmark = pytest.mark.slow

README = REPO / "README.md"
HEADING = "### A weekly league: three tiers, promotion and demotion"


def walk_through() -> list[tuple[str, str]]:
    """(command, what the README shows it printing) for each command of the block."""
    text = README.read_text().split(HEADING, 1)[1]
    block = text.split("```console\n", 1)[1].split("\n```", 1)[0]
    steps: list[tuple[list[str], list[str]]] = []
    for line in block.splitlines():
        if steps and still_open(steps[-1][0]):
            steps[-1][0].append(line)
        elif line.startswith("$ "):
            steps.append(([line[2:]], []))
        else:
            steps[-1][1].append(line.strip())
    return [("\n".join(command), "".join(shown)) for command, shown in steps]


def still_open(command: list[str]) -> bool:
    """A command goes on after a trailing backslash or inside an open single quote."""
    return command[-1].endswith("\\") or "\n".join(command).count("'") % 2 == 1


def shown_as_pattern(shown: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in shown.split("…")), re.DOTALL)


def test_the_readme_league_walk_through_runs_as_written(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str
) -> None:
    steps = walk_through()
    assert len(steps) == 7
    env = service_env(tmp_path, database_url, redis_server_url, redis_key_prefix)
    with running_service(tmp_path, env) as service:
        signed = httpx.post(
            f"{service.base}/v1/auth/device",
            json={"device_id": "readme-league-ada-0001", "display_name": "Ada"},
            timeout=10,
        ).json()
        variables = {
            "ADMIN_TOKEN": TEST_ADMIN_TOKEN,
            "TOKEN": signed["token"],
            "PLAYER": signed["player_id"],
            "PATH": env["PATH"],
        }
        port = service.base.rsplit(":", 1)[1]
        for command, shown in steps:
            run = subprocess.run(
                ["bash", "-c", command.replace("localhost:8000", f"localhost:{port}")],
                env=variables,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            printed = "".join(line.strip() for line in run.stdout.splitlines())
            # The README writes Ada's id as it showed it when she signed in: 7c0e….
            printed = printed.replace(signed["player_id"], f"7c0e{signed['player_id']}")
            assert shown_as_pattern(shown).fullmatch(printed), (command, shown, printed)
        league = httpx.get(f"{service.base}/v1/leagues/weekly-league", timeout=10).json()
        assert league["season"] == 2
