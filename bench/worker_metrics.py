"""Read the service's counters from ``/metrics`` of every worker, not of whichever answers.

Each worker counts for itself and ``/metrics`` answers for the worker that accepted the
connection; the answer does not say which one that was. So each scrape opens a new
connection, reads ``/metrics`` over it and, while the connection is still open
(keep-alive), finds the worker holding its other end among the workers' sockets
(psutil): that connection was served by that worker, by its pid. Scrapes repeat until
every worker has answered once (or ``tries`` run out: then the sample is partial, and
says how many workers it covers).
"""

from __future__ import annotations

import contextlib
import http.client
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psutil

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? (?P<v>\S+)")


@dataclass
class Scrape:
    """Counter values of each worker that answered, by pid."""

    expected: int  # how many workers the service has
    by_worker: dict[int, dict[str, float]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return len(self.by_worker) == self.expected


def key(name: str, **labels: str) -> str:
    """``name{a="x",b="y"}`` as the text format writes it (labels in the given order)."""
    return name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")


def delta(before: Scrape, after: Scrape, name: str, **labels: str) -> tuple[float, int]:
    """How much a counter grew, summed over the workers both scrapes reached; and how many."""
    k = key(name, **labels)
    common = before.by_worker.keys() & after.by_worker.keys()
    grown = sum(after.by_worker[p].get(k, 0.0) - before.by_worker[p].get(k, 0.0) for p in common)
    return grown, len(common)


def parse(text: str, prefixes: tuple[str, ...]) -> dict[str, float]:
    """The samples of the metrics whose names start with one of ``prefixes``."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(prefixes):
            continue
        m = _SAMPLE.match(line)
        if m:
            key = m["name"] + (f"{{{m['labels']}}}" if m["labels"] else "")
            out[key] = float(m["v"])
    return out


def _owner(pids: list[int], local: tuple[str, int]) -> int | None:
    """The worker whose socket's remote end is ``local`` (our end of the connection)."""
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            for c in psutil.Process(pid).net_connections(kind="tcp"):
                if c.raddr and (c.raddr.ip, c.raddr.port) == local:
                    return pid
    return None


def scrape(
    base: str, pids: list[int], prefixes: tuple[str, ...] = ("leaderboard_",), tries: int = 200
) -> Scrape:
    """One ``/metrics`` answer from each worker in ``pids`` (fewer when ``tries`` run out)."""
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    out = Scrape(expected=len(pids))
    for _ in range(tries):
        conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            body = resp.read().decode()
            if resp.status != 200:
                raise RuntimeError(f"GET /metrics answered {resp.status}")
            assert conn.sock is not None  # still open: HTTP/1.1 keep-alive
            name = conn.sock.getsockname()
            pid = _owner(pids, (str(name[0]), int(name[1])))
        finally:
            conn.close()
        if pid is None or pid in out.by_worker:
            continue
        out.by_worker[pid] = parse(body, prefixes)
        if out.complete:
            break
    return out
