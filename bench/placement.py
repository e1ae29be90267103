"""Which worker process holds which load's connections, read from the kernel's sockets.

uvicorn's workers share one listening socket and whichever is waiting in accept() first
takes the next connection, so when wrk opens its connections all at once, how they land
on the workers differs from run to run (one run: a worker held all 16 submitters and 31
readers, the other 17 readers). The mixed load's split between readers and submitters
follows it (docs/decisions.md, D-050), so each mixed run records it.
"""

from __future__ import annotations

import contextlib
import time
from urllib.parse import urlsplit

import psutil

# wrk opens its connections at once; the kernel lists them within a few milliseconds.
SETTLE_S = 3.0


def _ports(pid: int, port: int, *, local: bool) -> list[int]:
    """Ports of ``pid``'s established TCP connections with ``port`` on the other side (or,
    ``local``, on its own side): the client's ports either way."""
    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
        found = []
        for c in psutil.Process(pid).net_connections(kind="tcp"):
            if c.status != psutil.CONN_ESTABLISHED or not c.raddr:
                continue
            if local and c.laddr.port == port:
                found.append(c.raddr.port)
            elif not local and c.raddr.port == port:
                found.append(c.laddr.port)
        return found
    return []


def placement(url: str, clients: list[int], workers: list[int]) -> list[list[int]]:
    """For each worker (in ``workers``' order), how many of each client's connections it
    holds (in ``clients``' order); read once every client's connections are all held, or
    after :data:`SETTLE_S`."""
    if not workers:  # one worker serves in uvicorn's own process: nothing to place
        return []
    port = urlsplit(url).port or 80
    deadline = time.monotonic() + SETTLE_S
    while True:
        owner = {p: i for i, pid in enumerate(clients) for p in _ports(pid, port, local=False)}
        counts = [[0] * len(clients) for _ in workers]
        for w, pid in enumerate(workers):
            for client_port in _ports(pid, port, local=True):
                if client_port in owner:
                    counts[w][owner[client_port]] += 1
        held = sum(map(sum, counts))
        if (held and held == len(owner)) or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)
