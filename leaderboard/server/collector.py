"""A serving worker's garbage collector: what start-up built frozen, young collections rarer.

Python's cyclic collector walks every object it tracks at each full collection. A worker
holds ~60,000 of them from start-up alone (the app, its routes and schemas, the modules);
under load its requests promote enough objects that a full collection came every ~3 s, and
each stopped the worker for 40-60 ms (with 1,000 WebSocket subscribers, 100-125 ms): the
gap between a submission's p50 and its p99 (docs/decisions.md, D-049).

- :func:`gc.freeze` after start-up moves what exists then out of the collector's sight
  (it is never garbage: refcounting still frees any of it that is dropped; only cycles
  among those objects would stay).
- A young collection every ``YOUNG_THRESHOLD`` allocations instead of 700: most of a
  request's objects are freed by refcounting long before, so the collections that remain
  find little, and fewer in-flight objects are promoted to the old generation.

Only ``serve``'s workers do this (``create_worker_app``): the test suite builds hundreds of
apps in one process, where a freeze per app would keep each earlier app's cycles for ever.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
"""Net container allocations between two young collections (Python's default: 700)."""


def settle_collector() -> None:
    """Collect once, freeze what survives, and space out the young collections."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
