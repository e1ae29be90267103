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
STYLES = ["ordinal", "competition", "dense"]


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
        "| per submission | plain | 3 spans + country | ratio (median of the rounds' ratios) |",
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
        f"({res['total_ratio']:.2f}×). The round trips are the same: one statement writes "
        "every span's row, and one script run applies the submission to every span's "
        "index and its country index (docs/decisions.md, D-041, D-043). What grows with "
        "the spans is the work itself: three rows and their digests in Postgres, three "
        "indexes and three country indexes in Redis, and three answers. Most of the Redis "
        "part is events: a span whose best changed announces it and up to ten players it "
        "passed (`overtake_events`), each a stream entry and a publish, so a submission "
        "that changes all three spans announces three times as much as on a plain board. "
        "A fixed cost per submission taken off both boards (the group commit's larger "
        "batches, D-042) lowers the spans board's CPU and raises the ratio.",
        *read_lines(res.get("reads")),
    ]


def read_lines(reads: dict[str, Any] | None) -> list[str]:
    """The shared-rank reads' table (runs before this one had none)."""
    if reads is None:
        return []
    cpu = reads["cpu_us"]

    def median(key: str) -> str:
        return f"{statistics.median(cpu[key]):,.0f}"

    worst = max(
        reads[f"{kind}_{style}_ratio"] for kind in ("top", "around") for style in STYLES[1:]
    )
    return [
        "",
        "Reads of the same board in each rank style (`?ranks=`), in turn, CPU per read "
        "(service + Redis, median of rounds; each ratio is the median of the rounds' own "
        "ratios, the three styles being measured back to back in every round):",
        "",
        "| read | ordinal (µs) | competition (µs) | dense (µs) | competition ÷ ordinal | "
        "dense ÷ ordinal |",
        "|---|---|---|---|---|---|",
        *(
            f"| {label} | {median(f'{kind}_ordinal')} | {median(f'{kind}_competition')} | "
            f"{median(f'{kind}_dense')} | {reads[f'{kind}_competition_ratio']:.2f}× | "
            f"{reads[f'{kind}_dense_ratio']:.2f}× |"
            for kind, label in (("top", "top-100"), ("around", "around a player, radius 10"))
        ),
        "",
        f"Target: shared-rank reads within 1.1× ordinal ones: {met(worst <= 1.1)} (worst "
        f"{worst:.2f}×). A competition rank is one `ZCOUNT` of the better scores, a dense "
        "rank one `ZCOUNT` of the distinct-score set (docs/decisions.md, D-038), counted "
        "once per distinct score on the page, in the read's own script call (no extra "
        "round trip); the top-100 page is served from the worker's page cache in every "
        "style alike.",
    ]
