"""Process helpers for tests that start `leaderboard serve` or embedded servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any LEADERBOARD_* variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERBOARD_")}
    env.update(extra)
    return env


def start_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "leaderboard", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def gone(process: psutil.Process) -> bool:
    """True when the process has exited (a zombie waiting to be reaped counts as exited)."""
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def processes_using(path: Path) -> list[psutil.Process]:
    """Live processes whose command line mentions ``path`` (servers left behind)."""
    needle = str(path.resolve())
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if needle in cmdline and not gone(process):
            found.append(process)
    return found
