"""Turn a results dict (bench/results/<mode>.json) into docs/benchmarks.md and the plot.

`uv run --group bench python -m bench.report bench/results/full.json` rewrites the
report from saved results without running anything.

The parts: report_run.py (how to run, this run), report_targets.py, report_why.py and
report_fanout_why.py (what each target's figure is made of), report_tables.py
(throughput, rank lookups by size, memory), report_players.py (signed-in players, the
fan-out), report_loads.py (mixed load, hot board, friends and histogram),
report_profile.py (py-spy), report_notes.py (reading the results) and plot.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import cast

from bench.common import RESULTS, ROOT
from bench.plot import plot
from bench.records import Results
from bench.report_common import CONVERGENCE, marked_section
from bench.report_history import kept_section as kept_history
from bench.report_leagues import kept_section
from bench.report_ledger import kept_section as kept_ledger
from bench.report_loads import big_reads_section, hot_section, mixed_section
from bench.report_notes import notes
from bench.report_players import fanout_section, players_section
from bench.report_profile import profile_section
from bench.report_run import run_section
from bench.report_spans import kept_section as kept_spans
from bench.report_tables import memory, rank_by_size, throughput
from bench.report_targets import targets_table
from bench.report_why import why_section

COMMAND = "bash bench/run.sh"
NO_PLOT = (
    "*(No plot: matplotlib is not installed here; `bash bench/run.sh` brings it with the "
    "`bench` dependency group.)*\n"
)


def markdown(res: Results, plot_rel: str | None) -> str:
    """The whole report; ``plot_rel`` is the plot's path from the report, None without one."""
    plot_line = f"![Rank lookup latency against board size]({plot_rel})\n" if plot_rel else NO_PLOT
    out = [
        *run_section(res),
        *targets_table(res),
        *why_section(res),
        *throughput(res),
        *players_section(res),
        *mixed_section(res),
        *fanout_section(res),
        *hot_section(res),
        *rank_by_size(res, plot_line),
        *big_reads_section(res),
        *memory(res),
        *profile_section(res),
        notes(res),
    ]
    return "\n".join(out) + "\n"


def write_report(res: Results, report: Path, plot_path: Path, root: Path = ROOT) -> bool:
    """Write the report and its plot; False when the plot could not be drawn."""
    drawn = plot(res, plot_path)
    try:
        rel = plot_path.relative_to(report.parent)
    except ValueError:
        rel = Path("..") / plot_path.relative_to(root) if report.parent != root else plot_path
    report.parent.mkdir(parents=True, exist_ok=True)
    # The Leagues, Convergence, Ledger, Spans and History sections come from their own
    # runs (bench/leagues.py, convergence.py, ledger.py, spans.py, history.py): kept as
    # they are.
    old = report.read_text() if report.exists() else ""
    kept = (
        kept_section(old)
        + marked_section(old, *CONVERGENCE)
        + kept_ledger(old)
        + kept_spans(old)
        + kept_history(old)
    )
    text = markdown(res, str(rel).replace("images/../", "") if drawn else None)
    report.write_text(text + ("\n" + kept if kept else ""))
    return drawn


def default_paths(mode: str) -> tuple[Path, Path]:
    """Where a run of ``mode`` writes its report and plot."""
    if mode == "full":
        return ROOT / "docs/benchmarks.md", ROOT / "docs/images/benchmark-rank-latency.png"
    return RESULTS / f"{mode}.md", RESULTS / f"{mode}-rank-latency.png"


def main() -> None:
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/full.json")
    data = cast("Results", json.loads(src.read_text()))
    write_report(data, *default_paths(data["mode"]))


if __name__ == "__main__":
    main()
