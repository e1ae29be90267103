"""The "Spans" section of docs/benchmarks.md, from bench/results/spans.json.

Between two markers, as the Ledger section: `python -m bench.spans` rewrites only it, and
the main report (report.py) keeps it.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from bench.report_common import marked_section, met, replace_section

BEGIN, END = "<!-- spans: begin -->", "<!-- spans: end -->"


def kept_section(old: str) -> str:
    """The marked Spans section of an earlier report ("" when it has none)."""
    return marked_section(old, BEGIN, END)


def write_section(results: dict[str, Any], report: Path) -> None:
    """Put the section into ``report``: in place of the old one, or at the end."""
    replace_section(report, section_lines(results), BEGIN, END)


def section_lines(res: dict[str, Any]) -> list[str]:
    def median(key: str) -> float:
        return float(statistics.median(res[key]))

    return [
        "## Spans",
        "",
        f"`{res['command']}`, {res['players']:,} signed-in players submitting random scores "
        "(`bench/lua/player_submit.lua`) to two `best` boards in turn: a plain daily board, "
        'and one with `"spans": ["daily", "weekly", "never"]` and the `country` segment '
        f"(every player in one of {res['countries']} countries, each country's index "
        f"built), {len(res['plain_cpu_us'])} rounds of {res['duration_s']:.0f} s each, "
        f"2 workers; load average {res['load_average'][0]:.1f} before, "
        f"{res['load_average'][-1]:.1f} after.",
        "",
        "| per submission | plain | 3 spans + country | ratio |",
        "|---|---|---|---|",
        f"| service CPU (µs, median of rounds) | {median('plain_cpu_us'):,.0f} | "
        f"{median('spans_cpu_us'):,.0f} | {res['cpu_ratio']:.2f}× |",
        f"| Postgres CPU (µs) | {median('plain_pg_us'):,.0f} | {median('spans_pg_us'):,.0f} | "
        f"{res['pg_ratio']:.2f}× |",
        f"| Redis CPU (µs) | {median('plain_redis_us'):,.0f} | "
        f"{median('spans_redis_us'):,.0f} | {res['redis_ratio']:.2f}× |",
        f"| all three (µs) | {res['plain_total_us']:,.0f} | {res['spans_total_us']:,.0f} | "
        f"{res['total_ratio']:.2f}× |",
        f"| submissions per second | {median('plain_rps'):,.0f} | {median('spans_rps'):,.0f} | |",
        "",
        "Target: the spans board within 1.3× the plain board's CPU (service + Postgres + "
        f"Redis) per submission: {met(res['total_ratio'] <= 1.3)} "
        f"({res['total_ratio']:.2f}×). The round trips are the same (one statement writes "
        "every span's row; the span's index calls leave in one pipeline: docs/decisions.md, "
        "D-041, D-043), but each span's index call is a script run of its own (three, and "
        "three country indexes, against one), and the service builds and reads each: the "
        "Redis and service CPU grow with the spans. One script applying every span (D-043's "
        "alternative) is what would bring it down.",
    ]
