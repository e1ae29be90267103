"""The TypeScript client's npm package (clients/typescript), installed and built for tests.

Node.js and npm come from the machine (CI has Node 20); the package's dev dependencies
come from the npm registry through `npm ci` (the lockfile, no install scripts) into the
package's own node_modules, and only when they are missing or stale. Without npm, the
tests that need it are skipped, unless ``LEADERBOARD_TEST_REQUIRE_BROWSER`` is ``1`` (as
in .ci/run): then they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "typescript"


def unavailable(message: str) -> None:
    """Skip, or fail where the client must be tested (CI)."""
    if os.environ.get("LEADERBOARD_TEST_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} (LEADERBOARD_TEST_REQUIRE_BROWSER=1)")
    pytest.skip(message)


def run(*command: str, timeout: float = 300) -> str:
    """Run a command in the package; its output. Fails the test when it fails."""
    done = subprocess.run(
        list(command),
        cwd=PACKAGE,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


def installed() -> bool:
    """node_modules holds exactly what package-lock.json says (npm's own record of it)."""
    record = PACKAGE / "node_modules" / ".package-lock.json"
    if not record.exists():
        return False
    wanted = json.loads((PACKAGE / "package-lock.json").read_text())["packages"]
    have = json.loads(record.read_text())["packages"]
    return bool(have == {name: spec for name, spec in wanted.items() if name})


def install() -> Path:
    """The package with its dev dependencies installed (`npm ci`, when needed)."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed: the TypeScript client cannot be built")
    if not installed():
        try:
            run("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund")
        except AssertionError as exc:  # most likely no registry here
            unavailable(str(exc))
    return PACKAGE
