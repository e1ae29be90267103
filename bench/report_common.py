"""Helpers that every part of the report shares."""

from __future__ import annotations

from pathlib import Path

from bench.records import Runs, WrkRecord


def size_label(size: int) -> str:
    """10 k, 1 M, 12,345."""
    for unit, div in ((" M", 1_000_000), (" k", 1_000)):
        if size >= div and size % div == 0:
            return f"{size // div}{unit}"
    return f"{size:,}"


def met(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def cpu_of(run: WrkRecord) -> float | None:
    """Server CPU µs per request; None (or 0) when not measured (results of older runs)."""
    return run.get("cpu_us_per_request")


def bare_rps(runs: Runs) -> float:
    """The ceiling: the mean of the bare app's first and last runs."""
    return (runs["hello"]["rps"] + runs["hello_end"]["rps"]) / 2


def bare_cpu(runs: Runs) -> float | None:
    """The bare app's mean server CPU µs per request, when both runs have it."""
    first, last = cpu_of(runs["hello"]), cpu_of(runs["hello_end"])
    return (first + last) / 2 if first and last else None


def store_cpu(run: WrkRecord) -> tuple[float, float] | None:
    """Postgres' and Redis' CPU µs per request; None when not measured."""
    pg, rd = run.get("postgres_cpu_us_per_request"), run.get("redis_cpu_us_per_request")
    return (pg, rd) if pg is not None and rd is not None else None


def whole_cpu(run: WrkRecord) -> float | None:
    """Service + Postgres + Redis CPU µs per request; None when any part is missing."""
    own, stores = cpu_of(run), store_cpu(run)
    return own + stores[0] + stores[1] if own and stores else None


def cpu_split(run: WrkRecord) -> str:
    """ "612 µs (service 480 + Postgres 70 + Redis 62)", or the service's alone."""
    own, stores = cpu_of(run), store_cpu(run)
    if not own:
        return "–"
    if stores is None:
        return f"{own:,.0f} µs (service only)"
    pg, rd = stores
    return f"{own + pg + rd:,.0f} µs (service {own:,.0f} + Postgres {pg:,.0f} + Redis {rd:,.0f})"


def changed_share(run: WrkRecord) -> float | None:
    """The share of accepted submissions that changed the player's best (player_submit.lua)."""
    counters = run.get("counters") or {}
    changed, unchanged = counters.get("changed", 0), counters.get("unchanged", 0)
    return changed / (changed + unchanged) if changed + unchanged else None


# The Convergence section is written by hand from `python -m bench.convergence`'s results
# (bench/results/convergence-<size>.json); the full report keeps it as it is.
CONVERGENCE = ("<!-- convergence: begin -->", "<!-- convergence: end -->")


def marked_section(old: str, begin: str, end: str) -> str:
    """The section of an earlier report between two markers, markers included ("" if none)."""
    if begin not in old or end not in old:
        return ""
    return begin + old.split(begin, 1)[1].split(end, 1)[0] + end + "\n"


def replace_section(report: Path, lines: list[str], begin: str, end: str) -> None:
    """Put a marked section into ``report``: in place of the old one, or at the end."""
    section = begin + "\n" + "\n".join(lines) + "\n" + end + "\n"
    text = report.read_text() if report.exists() else ""
    old = marked_section(text, begin, end)
    text = text.replace(old, section) if old else text.rstrip("\n") + "\n\n" + section
    report.write_text(text)
