"""The "Leagues" section of docs/benchmarks.md, from bench/results/leagues.json.

It sits between two markers, so that `python -m bench.leagues` rewrites only it and
the main report (report.py) keeps it when it rewrites the rest of the page.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from bench.report_common import marked_section

BEGIN, END = "<!-- leagues: begin -->", "<!-- leagues: end -->"


def kept_section(old: str) -> str:
    """The marked Leagues section of an earlier report ("" when it has none)."""
    return marked_section(old, BEGIN, END)


def write_section(results: dict[str, Any], report: Path) -> None:
    """Put the section into ``report``: in place of the old one, or at the end."""
    section = BEGIN + "\n" + "\n".join(section_lines(results)) + "\n" + END + "\n"
    text = report.read_text() if report.exists() else ""
    old = kept_section(text)
    text = text.replace(old, section) if old else text.rstrip("\n") + "\n\n" + section
    report.write_text(text)


def _load_row(name: str, alone: dict[str, Any], during: dict[str, Any]) -> str:
    kept = during["rps"] / alone["rps"] if alone["rps"] else 0.0
    return (
        f"| {name} | {alone['rps']:,.0f} | {alone['p99_ms']:.1f} | {during['rps']:,.0f} | "
        f"{kept:.0%} | {during['p99_ms']:.1f} | {during['max_ms']:.0f} | "
        f"{during['errors']} |"
    )


def _store_lines(res: dict[str, Any]) -> list[str]:
    """Postgres' and Redis' CPU per submission of each kind (medians), when measured."""
    board, league = res.get("board_store_us"), res.get("league_store_us")
    if not board or not league or None in (board[0][0], league[0][0]):
        return []

    def medians(runs: list[list[float]]) -> tuple[float, float]:
        return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)

    (bpg, brd), (lpg, lrd) = medians(board), medians(league)
    return [
        f"Beside the service: Postgres spent {bpg:,.0f} µs per board submission and "
        f"{lpg:,.0f} per league submission, Redis {brd:,.0f} and {lrd:,.0f} (medians; "
        "Redis' figure is the whole server's, which other work shares on this machine).",
        "",
    ]


def _load_note(res: dict[str, Any]) -> list[str]:
    """What else the machine was doing: its load average at the start and at the end."""
    loads = res.get("load_average")
    if not loads:
        return []
    return [
        "The machine's 1-minute load average was "
        + " at the start, ".join(f"{load:.1f}" for load in loads)
        + " after the close (2 cores; other work on the machine ran meanwhile): read the "
        "ratios, which come from one run, before the absolute figures.",
        "",
    ]


def section_lines(res: dict[str, Any]) -> list[str]:
    board = statistics.median(res["board_cpu_us"])
    league = statistics.median(res["league_cpu_us"])
    close = res["close"]
    zones = ", ".join(f"{zone} {count:,}" for zone, count in sorted(close["zones"].items()))
    rows = [
        _load_row(a["name"].split(" (")[0], a, d)
        for a, d in zip(close["alone"], close["during"], strict=True)
    ]
    return [
        "## Leagues",
        "",
        "`uv run --group bench python -m bench.leagues` (`bench/leagues.py`; 10-15 "
        "minutes). `leaderboard serve --workers 2`; a board and a league (`sum`, cohorts "
        "of 30, three tiers) of 10,000 players signed in through the API, every player "
        "placed by a warm-up run first; wrk submits to each in turn as those players, each "
        "request with its player's own token (rising scores on the board, so every "
        "submission raises a best; 1-100 points on the league), "
        f"{len(res['board_cpu_us'])} rounds of "
        f"{res['duration_s']:g} s, 64 connections.",
        "",
        "| submission | server CPU µs/req (each round) | median | req/s (each round) |",
        "|---|---|---:|---|",
        "| board `POST …/leaderboards/{id}/scores` | "
        + ", ".join(f"{v:,.0f}" for v in res["board_cpu_us"])
        + f" | {board:,.0f} | "
        + ", ".join(f"{v:,.0f}" for v in res["board_rps"])
        + " |",
        "| league `POST …/leagues/{id}/scores` | "
        + ", ".join(f"{v:,.0f}" for v in res["league_cpu_us"])
        + f" | {league:,.0f} | "
        + ", ".join(f"{v:,.0f}" for v in res["league_rps"])
        + " |",
        "",
        *_store_lines(res),
        f"**A league submission costs {res['cpu_ratio']:.2f}× a board submission's CPU** "
        "(the median of the rounds' ratios; target ≤ 1.2×). Both take the same steps: one "
        "script that takes the rate-limit slot (and checks the session when the worker "
        "holds no copy of it: `scores/admit.lua`, `leagues/admit.lua`), one group-committed "
        "statement "
        "(`league_submit` places a newcomer and applies the operator; the board's upsert), "
        "one index script (`cohort_apply.lua` with its zone events; `index_apply.lua` with "
        "its rank event).",
        "",
        f"**Closing a season of {res['players']:,} players** (loaded by COPY in "
        f"{res['load_s']:.0f} s: 60 % Bronze, 30 % Silver, 10 % Gold, cohorts of 30): the "
        f"admin's `POST …/season/end` answered after **{close['answered_s']:.1f} s** (every "
        "result written and the next season open, one transaction); every `season_ended` "
        f"event was out and the closed cohorts' keys gone after **{close['finished_s']:.1f} "
        f"s** in all (target < 60 s). Results: {close['results']:,} ({zones}).",
        "",
        "Meanwhile wrk kept submitting to the board and to another league (16 connections "
        "each, 30 s, the close 3 s into it); the same loads alone just before:",
        "",
        "| load | alone req/s | alone p99 ms | during the close req/s | kept | p99 ms | max ms "
        "| errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        *_load_note(res),
        "Submissions to the closing league itself are answered 409 with `Retry-After` while "
        "its results are written (its lock is held); nothing else waits on that lock. What "
        "the other loads may lose is the machine's two cores: Postgres sorts and writes a "
        "million rows, and the service builds a million events."
        + (
            " In this run they did not lose even that: the rest of the machine's work moved "
            "their rates more than the close did."
            if all(
                d["rps"] >= a["rps"] for a, d in zip(close["alone"], close["during"], strict=True)
            )
            else ""
        ),
    ]
