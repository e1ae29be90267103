"""The "History" section of docs/benchmarks.md, from bench/results/history.json.

Between two markers, as the Spans section: `python -m bench.history` rewrites only it,
and the main report (report.py) keeps it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report_common import marked_section, met, replace_section

BEGIN, END = "<!-- history: begin -->", "<!-- history: end -->"
TARGET_MS = 20.0


def kept_section(old: str) -> str:
    """The marked History section of an earlier report ("" when it has none)."""
    return marked_section(old, BEGIN, END)


def write_section(results: dict[str, Any], report: Path) -> None:
    """Put the section into ``report``: in place of the old one, or at the end."""
    replace_section(report, section_lines(results), BEGIN, END)


def section_lines(res: dict[str, Any]) -> list[str]:
    one, many = res["one"], res["many"]
    return [
        "## History",
        "",
        f"`{res['command']}`: a daily board with {res['periods']} ended periods of "
        f"{res['entries']:,} entries each ({res['rows']:,} rows in `scores` and as many in "
        "`period_results`, written straight into Postgres and frozen as retention freezes "
        f"an ended period; {res['load_s'] / 60:.0f} min to load), every player in every "
        "period; wrk reads `GET …/players/{id}/history?limit=100` of 1,000 players picked "
        f"at random, {res['duration_s']:.0f} s per run, 2 workers; load average "
        f"{res['load_average'][0]:.1f} before, {res['load_average'][-1]:.1f} after.",
        "",
        "| connections | histories/s | p50 (ms) | p99 (ms) | service CPU (µs) | "
        "Postgres CPU (µs) |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r['connections']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
            f"{r['cpu_us_per_request'] or 0:,.0f} | {r['postgres_cpu_us_per_request'] or 0:,.0f} |"
            for r in (one, many)
        ),
        "",
        f"Target: a history of 100 periods in < {TARGET_MS:.0f} ms at 1 M entries per "
        f"period: {met(one['p99_ms'] < TARGET_MS and res['entries'] >= 1_000_000)} (p99 "
        f"{one['p99_ms']:.2f} ms on one connection, at {res['entries']:,} entries per "
        "period). The read is one query (docs/decisions.md, D-039): the player's rows of "
        "`scores` by `scores_player`, each joined to its frozen row of `period_results` by "
        "its key; the other players' rows are never read, so the time grows with the "
        "periods asked for and only with the logarithm of the entries (the indexes' depth).",
    ]
