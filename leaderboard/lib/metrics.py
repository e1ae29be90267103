"""Prometheus metrics: the service's own (per-route request metrics: request_middleware.py).

``GET /metrics`` (leaderboard/health/controller.py) serves them in Prometheus' text format
(:func:`exposition`). Each worker process counts for itself; with ``PROMETHEUS_MULTIPROC_DIR``
set (``serve --workers N`` sets it when it is not), prometheus_client's multiprocess mode
keeps every worker's figures in files there, and ``/metrics`` adds them up, whichever worker
answers. Gauges say how: the number of subscribers is the sum over the live workers, the
Redis memory figures the latest a worker read.

The metrics a request moves (its count and duration, submissions, cache lookups, batch
sizes) go through :data:`BUFFER` (metric_buffer.py), which writes them to
prometheus_client at most a second later: a multiprocess write costs ~2 µs, and a
request made several.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from leaderboard.lib.metric_buffer import MetricBuffer

__all__ = ["CONTENT_TYPE_LATEST"]

PREFIX = "leaderboard"

SUBMISSIONS = Counter(
    f"{PREFIX}_submissions_total",
    "Score submissions by outcome: accepted, throttled, rejected (4xx) or failed (5xx).",
    ["outcome"],
)
EVENTS_PUBLISHED = Counter(f"{PREFIX}_events_published_total", "rank_changed events published.")
PROFILE_CACHE = Counter(
    f"{PREFIX}_profile_cache_total", "Profile cache lookups by result: hit or miss.", ["result"]
)
TOP_PAGE_CACHE = Counter(
    f"{PREFIX}_top_page_cache_total",
    "Top pages asked of this worker's short-lived cache, by result: hit or miss.",
    ["result"],
)
BATCH_SIZE = Histogram(
    f"{PREFIX}_batch_size",
    "Calls sent together: Lua scripts per Redis pipeline (redis_scripts), submissions per "
    "Postgres statement (score_upserts). See leaderboard/lib/batching.py.",
    ["batcher"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
REBUILDS = Counter(f"{PREFIX}_index_rebuilds_total", "Leaderboard index rebuilds run.")
INDEX_REPAIRS = Counter(
    f"{PREFIX}_index_repairs_total",
    "Index periods repaired without an operator, by cause: missing (lost or evicted), "
    "diverged (its digest disagreed with Postgres), unknown_outcome (a submission whose "
    "commit was not known when it answered).",
    ["cause"],
)
EVENT_SUBSCRIBERS = Gauge(
    f"{PREFIX}_event_subscribers",
    "WebSocket and SSE clients subscribed to events now (in every live worker).",
    multiprocess_mode="livesum",
)
REDIS_USED_MEMORY = Gauge(
    f"{PREFIX}_redis_used_memory_bytes",
    "Redis used_memory, read at each scrape.",
    multiprocess_mode="mostrecent",
)
REDIS_MAX_MEMORY = Gauge(
    f"{PREFIX}_redis_maxmemory_bytes",
    "Redis maxmemory (0: no limit).",
    multiprocess_mode="mostrecent",
)


# This process's buffered metric children (one per metric and label values).
BUFFER = MetricBuffer()
# How often a worker writes what BUFFER holds (the lag of its figures in another
# worker's scrape).
FLUSH_SECONDS = 1.0


async def flush_buffer() -> None:
    """One round of the worker's metrics flush (a ``Periodic``'s round)."""
    BUFFER.flush()


def exposition(metrics_dir: Path | None) -> bytes:
    """Every metric in Prometheus' text format.

    This process's, or, with ``metrics_dir`` (``PROMETHEUS_MULTIPROC_DIR``), every worker's
    added up (each other worker's as of its last flush).
    """
    BUFFER.flush()
    if metrics_dir is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(metrics_dir))  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def forget_this_process(metrics_dir: Path | None) -> None:
    """At a worker's clean exit: its pending updates written, its live gauges forgotten.

    (Live gauges: subscribers, requests in progress. A worker that dies leaves them until ``serve``
    starts again.)
    """
    BUFFER.flush()
    if metrics_dir is not None:
        multiprocess.mark_process_dead(os.getpid(), str(metrics_dir))  # type: ignore[no-untyped-call]


def clear_metrics_dir(metrics_dir: Path) -> None:
    """Before the workers start: the files of an earlier run would count again.

    This process's own files stay: prometheus_client made them when the metrics were
    defined (at import), and writes to them from then on.
    """
    metrics_dir.mkdir(parents=True, exist_ok=True)
    mine = f"_{os.getpid()}.db"
    for stale in metrics_dir.glob("*.db"):
        if not stale.name.endswith(mine):
            stale.unlink(missing_ok=True)
