"""The "Ledger" section of docs/benchmarks.md, from bench/results/ledger.json.

Between two markers, as the Leagues section: `python -m bench.ledger` rewrites only it,
and the main report (report.py) keeps it.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from bench.report_common import marked_section

BEGIN, END = "<!-- ledger: begin -->", "<!-- ledger: end -->"


def kept_section(old: str) -> str:
    """The marked Ledger section of an earlier report ("" when it has none)."""
    return marked_section(old, BEGIN, END)


def write_section(results: dict[str, Any], report: Path) -> None:
    """Put the section into ``report``: in place of the old one, or at the end."""
    section = BEGIN + "\n" + "\n".join(section_lines(results)) + "\n" + END + "\n"
    text = report.read_text() if report.exists() else ""
    old = kept_section(text)
    text = text.replace(old, section) if old else text.rstrip("\n") + "\n\n" + section
    report.write_text(text)


def section_lines(res: dict[str, Any]) -> list[str]:
    off, on = res["off_cpu_us"], res["on_cpu_us"]
    pg_off, pg_on = res["off_pg_us"], res["on_pg_us"]
    size = res["size"]
    voids = res["void_ms"]
    return [
        "## Ledger",
        "",
        f"`{res['command']}`, {res['players']:,} signed-in players submitting random scores "
        f"(`bench/lua/player_submit.lua`) to two `best` boards in turn, one without a ledger "
        f"(`ledger_days: 0`) and one with (`30`), {len(off)} rounds of {res['duration_s']:.0f} s "
        f"each, 2 workers; load average {res['load_average'][0]:.1f} before, "
        f"{res['load_average'][-1]:.1f} after.",
        "",
        "| | no ledger | ledger | ledger ÷ none |",
        "|---|---|---|---|",
        f"| service CPU per submission (µs, median of rounds) | {statistics.median(off):,.0f} | "
        f"{statistics.median(on):,.0f} | {res['cpu_ratio']:.2f}× |",
        f"| Postgres CPU per submission (µs) | {statistics.median(pg_off):,.0f} | "
        f"{statistics.median(pg_on):,.0f} | {res['pg_ratio']:.2f}× |",
        f"| submissions per second | {statistics.median(res['off_rps']):,.0f} | "
        f"{statistics.median(res['on_rps']):,.0f} | |",
        "",
        "The ledger adds no round trip and no commit: its rows are inserted by the statement "
        "that upserts the scores (two more array parameters, one more CTE). The service's "
        "CPU per submission is the same within the run's noise (the rounds alternate, and "
        "their spread on this shared machine is larger than the difference); Postgres "
        "spends a little more per submission on the insert and its two index entries.",
        "",
        f"Postgres per kept submission: {size['bytes_per_row']:.0f} bytes "
        f"(`pg_total_relation_size('submissions')` ÷ {size['rows']:,.0f} rows, "
        f"{size['rows_per_player']:.0f} per player): table {size['heap_per_row']:.0f}, "
        f"primary key {size['pkey_per_row']:.1f}, `submissions_entry` "
        f"{size['entry_per_row']:.1f}, the pending queue's partial index "
        f"{size['pending_per_row']:.2f} (target ≤ 120). The entry index shrinks per row as "
        "a player's submissions grow (one key per player and period, a list of row "
        "pointers); a player with a single submission costs it about 40 bytes.",
        "",
        f"A void on a player with {res['void_rows']:,} submissions in the period "
        f"({len(voids)} voids through the API, the best each time, so each recomputes "
        f"from all of them and moves the rank): median {statistics.median(voids):.1f} ms, "
        f"max {max(voids):.1f} ms (target < 50 ms).",
    ]
