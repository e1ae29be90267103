"""Helpers that every part of the report shares."""

from __future__ import annotations

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
