"""The report's plot: rank lookup latency against board size (matplotlib).

matplotlib comes from the `bench` dependency group (bench/run.sh); without it there is
no plot, and the report says so where the plot would be.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bench.records import Results
from bench.report_common import size_label

Series = tuple[str, list[float], str, str]  # label, y values (ms), line style, colour


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def series(res: Results) -> list[Series]:
    by_size, redis = res["rank_by_size"], res["redis"]
    return [
        (
            "Postgres only: count(*) over an index",
            [r["median_ms"] for r in res["postgres"]["by_size"]],
            "s-",
            "#c0392b",
        ),
        (
            f"API rank lookup p50, {res['connections']} connections",
            [r["loaded"]["p50_ms"] for r in by_size],
            "o-",
            "#2980b9",
        ),
        (
            "API rank lookup p50, 1 connection",
            [r["single"]["p50_ms"] for r in by_size],
            "o--",
            "#5dade2",
        ),
        (
            "redis-py ZRANK round trip",
            [r["zrank_roundtrip_us"] / 1000 for r in redis],
            "^-",
            "#27ae60",
        ),
        (
            "index_read.lua, Redis server time",
            [r["index_read_server_us"] / 1000 for r in redis],
            "v-",
            "#8e44ad",
        ),
        (
            "ZRANK, Redis server time",
            [r["zrank_server_us"] / 1000 for r in redis],
            "d-",
            "#16a085",
        ),
    ]


def plot(res: Results, path: Path) -> bool:
    """Draw the plot into ``path``; False (and nothing drawn) without matplotlib."""
    if not available():
        return False
    # Not installed in every environment that type-checks bench/ (CI has no `bench` group).
    import matplotlib  # type: ignore[import-not-found, unused-ignore]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]

    sizes = [r["size"] for r in res["rank_by_size"]]
    fig, ax = plt.subplots(figsize=(11, 5), dpi=110)
    for name, ys, style, color in series(res):
        ax.plot(sizes, ys, style, label=name, color=color)
        ax.annotate(
            f"{ys[-1]:,.0f} ms" if ys[-1] >= 100 else f"{ys[-1]:.3g} ms",
            (sizes[-1], ys[-1]),
            textcoords="offset points",
            xytext=(6, -3),
            fontsize=8,
            color=color,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sizes, [size_label(s) for s in sizes])
    ax.set_xlabel("players on the board")
    ax.set_ylabel("latency (ms, log scale)")
    ax.set_title(f"Rank lookup latency against board size ({res['facts']['date'][:10]})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.12, 1.0))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True
