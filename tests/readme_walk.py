"""A README walk-through run as it is written: its `$ ` commands in bash, one after the
other, against a real `serve`; what the README shows under a command must match what it
printed, `…` standing for anything.

The commands use the variables the README's earlier steps set (`$ADMIN_TOKEN`, a player
Ada's `$TOKEN` and `$PLAYER`, whose id the README writes `7c0e…`); only the port differs.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping

from tests.paths import REPO

README = REPO / "README.md"


def walk_through(heading: str) -> list[tuple[str, str]]:
    """(command, what the README shows it printing) for each command of the first console
    block under ``heading``."""
    text = README.read_text().split(heading, 1)[1]
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


def run_step(
    command: str, shown: str, *, base: str, variables: Mapping[str, str], player_id: str
) -> None:
    """Run one command against the service at ``base``; what it printed must be ``shown``."""
    port = base.rsplit(":", 1)[1]
    run = subprocess.run(
        ["bash", "-c", command.replace("localhost:8000", f"localhost:{port}")],
        env=dict(variables),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    printed = "".join(line.strip() for line in run.stdout.splitlines())
    # The README writes Ada's id as it showed it when she signed in: 7c0e….
    printed = printed.replace(player_id, f"7c0e{player_id}")
    assert shown_as_pattern(shown.replace("\n", "")).fullmatch(printed), (
        command,
        shown,
        printed,
    )
