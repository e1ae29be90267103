"""Read the service's counters from ``/metrics``: every worker's, added up.

With several workers, ``leaderboard serve`` keeps the workers' metrics in one directory
(prometheus_client's multiprocess mode), and ``/metrics`` of any worker answers with the
sum over all of them. So one scrape is the whole service's. (Reading each worker's answer
and adding them up, as this module did before that, counted everything once per worker.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? (?P<v>\S+)")


@dataclass
class Scrape:
    """Counter values of the whole service at one moment."""

    values: dict[str, float] = field(default_factory=dict)


def key(name: str, **labels: str) -> str:
    """``name{a="x",b="y"}`` as the text format writes it (labels in the given order)."""
    return name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")


def delta(before: Scrape, after: Scrape, name: str, **labels: str) -> float:
    """How much a counter grew between two scrapes."""
    k = key(name, **labels)
    return after.values.get(k, 0.0) - before.values.get(k, 0.0)


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


def scrape(base: str, prefixes: tuple[str, ...] = ("leaderboard_",)) -> Scrape:
    """The service's counters (every worker's, added up by the service)."""
    r = httpx.get(f"{base}/metrics", timeout=10)
    r.raise_for_status()
    return Scrape(parse(r.text, prefixes))
