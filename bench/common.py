"""What every step of the benchmark shares: paths, the console, and the run's options."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
RUN = RESULTS / "run"  # per-run scratch: id lists for wrk, logs, raw profiles
console = Console()

Mode = Literal["full", "quick", "smoke"]


@dataclass(frozen=True, slots=True)
class Options:
    mode: Mode
    sizes: list[int]
    workers: int
    duration: float  # seconds per wrk run
    connections: int
    pg_url: str
    db_name: str
    redis_url: str
    key_prefix: str
    report: Path
    plot: Path
    no_profile: bool
    command: str  # how the run was started, for the report
    min_run_s: float = 2.0  # the shortest wrk run (warm-ups, single connection, calibration)
    pg_budget_s: float = 8.0  # time for Postgres-only rank queries per board size

    @property
    def db_url(self) -> str:
        return f"{self.pg_url}/{self.db_name}"

    @property
    def redis_db(self) -> int:
        return int(urlsplit(self.redis_url).path.strip("/") or 0)

    @property
    def scratch_prefix(self) -> str:
        """Where the bare sorted sets that the index's memory is compared with live."""
        return f"{self.key_prefix}scratch:"


_STARTED = time.monotonic()


def step(msg: str) -> None:
    console.print(f"[bold cyan]▶[/] [dim]{time.monotonic() - _STARTED:4.0f} s[/] {msg}")


def write_lines(name: str, lines: list[str]) -> str:
    """Write ``lines`` to bench/results/run/<name> (for wrk's scripts); its path."""
    path = RUN / name
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def run_section(
    name: str,
    title: str,
    args: argparse.Namespace,
    run: Callable[[argparse.Namespace], Coroutine[Any, Any, dict[str, Any]]],
    write_section: Callable[[dict[str, Any], Path], None],
) -> None:
    """A side benchmark's main: run it, keep bench/results/<name>.json, and rewrite its
    section of docs/benchmarks.md unless ``args.no_report``."""
    RUN.mkdir(parents=True, exist_ok=True)
    results = asyncio.run(run(args))
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(results, indent=2))
    console.print(f"results: {out}")
    if not args.no_report:
        write_section(results, ROOT / "docs" / "benchmarks.md")
        console.print(f"docs/benchmarks.md: the {title} section rewritten")
