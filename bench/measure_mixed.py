"""Reads and submissions on one board at the same time (docs/benchmarks.md, Mixed load).

Two wrk processes start together against the same board for the same duration: 48
connections reading (top-100, a player's rank, or around ±5) and 16 submitting (admin,
random players, each score above every stored one, as bench/lua/submit.lua always
does). Each side is compared with the same load alone at the same connection count,
measured in the same run just before. During the top-100 runs (alone and mixed) the
top-page cache's hits and misses are read from /metrics of every worker
(bench/worker_metrics.py).
"""

from __future__ import annotations

from bench.load import Board, player
from bench.measure_http import SCORE_BASE, Load, Wrk, write_paths
from bench.records import CacheSample, MixedResults, MixRecord
from bench.servers import Servers
from bench.worker_metrics import Scrape, delta, scrape

READ_CONNECTIONS = 48
WRITE_CONNECTIONS = 16
# Above the scores of every earlier submission run (measure_http.py uses up to +300 M).
MIX_SCORE_BASE = SCORE_BASE + 400_000_000
CACHE = "leaderboard_top_page_cache_total"


def cache_sample(before: Scrape, after: Scrape) -> CacheSample:
    hits, workers = delta(before, after, CACHE, result="hit")
    misses, _ = delta(before, after, CACHE, result="miss")
    shared, _ = delta(before, after, CACHE, result="shared")
    asked = hits + misses + shared
    return {
        "hits": hits,
        "misses": misses,
        "shared": shared,
        "hit_rate": (hits + shared) / asked if asked else None,
        "workers": workers,
        "of_workers": after.expected,
    }


def read_loads(board: Board) -> dict[str, dict[str, str]]:
    """wrk environments of the three reads, by name."""
    rank = write_paths(
        f"mix-rank-{board.id}.txt",
        [f"/v1/leaderboards/{board.id}/players/{p}" for p in board.sample_ids],
    )
    around = write_paths(
        f"mix-around-{board.id}.txt",
        [f"/v1/leaderboards/{board.id}/players/{p}/around?radius=5" for p in board.sample_ids],
    )
    return {
        "top-100": {"BENCH_PATH": f"/v1/leaderboards/{board.id}/top?limit=100"},
        "rank": {"BENCH_PATHS": rank},
        "around ±5": {"BENCH_PATHS": around},
    }


def measure(wrk: Wrk, servers: Servers, board: Board, admin_token: str) -> MixedResults:
    base, pids = servers.base, servers.worker_pids()
    rc, wc = READ_CONNECTIONS, WRITE_CONNECTIONS
    ids = write_paths(f"mix-ids-{board.id}.txt", [player(i)[0] for i in range(board.size)])

    def submit_env(k: int) -> dict[str, str]:
        return {
            "BENCH_IDS": ids,
            "BENCH_BOARD": board.id,
            "BENCH_ADMIN_TOKEN": admin_token,
            "BENCH_SCORE_BASE": str(MIX_SCORE_BASE + k * 100_000_000),
        }

    reads = read_loads(board)
    first = scrape(base, pids)
    solo_top = wrk(f"top-100 alone (c{rc})", base, "get.lua", reads["top-100"], connections=rc)
    solo_cache = cache_sample(first, scrape(base, pids))
    solo_submit = wrk(f"submit alone (c{wc})", base, "submit.lua", submit_env(0), connections=wc)
    mixes: list[MixRecord] = []
    for k, (name, env) in enumerate(reads.items(), start=1):
        solo = (
            solo_top
            if name == "top-100"
            else wrk(f"{name} alone (c{rc})", base, "get.lua", env, connections=rc)
        )
        before = scrape(base, pids) if name == "top-100" else None
        (r, w), cpu = wrk.together(
            [
                Load(f"{name} beside submissions (c{rc})", base, "get.lua", env, rc),
                Load(f"submit beside {name} (c{wc})", base, "submit.lua", submit_env(k), wc),
            ]
        )
        mixes.append(
            {
                "name": name,
                "reads": {
                    "run": r.as_dict(),
                    "solo": solo.as_dict(),
                    "ratio": r.rps / solo.rps if solo.rps else 0.0,
                },
                "writes": {
                    "run": w.as_dict(),
                    "solo": solo_submit.as_dict(),
                    "ratio": w.rps / solo_submit.rps if solo_submit.rps else 0.0,
                },
                "cpu_us_per_request": cpu,
                "cache": cache_sample(before, scrape(base, pids)) if before else None,
            }
        )
    return {
        "board": board.id,
        "read_connections": rc,
        "write_connections": wc,
        "mixes": mixes,
        "solo_cache": solo_cache,
    }
