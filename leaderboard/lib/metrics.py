"""Prometheus metrics: the service's own (per-route request metrics: request_middleware.py).

``GET /metrics`` (leaderboard/health/controller.py) serves them in Prometheus' text format.
With several workers, each worker counts for itself: scrape them through
prometheus_client's multiprocess mode (set ``PROMETHEUS_MULTIPROC_DIR``) or one port each.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
    "WebSocket and SSE clients subscribed to events now, in this process.",
)
REDIS_USED_MEMORY = Gauge(
    f"{PREFIX}_redis_used_memory_bytes", "Redis used_memory, read at each scrape."
)
REDIS_MAX_MEMORY = Gauge(f"{PREFIX}_redis_maxmemory_bytes", "Redis maxmemory (0: no limit).")
