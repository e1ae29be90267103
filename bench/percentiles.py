"""Percentiles of measured durations (the fan-out's processes and its report share them)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from bench.records_players import Latency


def latency(seconds: Iterable[float]) -> Latency:
    """p50 / p90 / p99 / max in ms of durations given in seconds (nearest-rank)."""
    ordered = sorted(seconds)
    n = len(ordered)

    def at(q: float) -> float:
        return ordered[min(n - 1, max(0, math.ceil(q * n) - 1))] * 1000 if n else 0.0

    return {
        "count": n,
        "p50_ms": at(0.50),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "max_ms": ordered[-1] * 1000 if n else 0.0,
    }
