"""Reads and submissions on one board at the same time (docs/benchmarks.md, Mixed load).

Two wrk processes start together against the same board for the same duration: 48
connections reading (top-100, a player's rank, or around ±5) and 16 submitting as
random signed-in players, each with their own session token (bench/lua/player_submit.lua),
on one of the signed-in players' boards (bench/players.py):

- top-100 beside **random** scores on ``bench-players``: most submissions leave the
  player's best, and the top page, as they were;
- top-100, rank and around ±5 beside **rising** scores on ``bench-rising``: every
  submission changes the best and moves its player to the top of the board.

Each side is compared with the same load alone at the same connection count, measured in
the same run just before. During the top-100 runs (alone and mixed) the top-page cache's
hits and misses are read from the service's /metrics (bench/worker_metrics.py).
"""

from __future__ import annotations

from bench.common import write_lines
from bench.measure_players import submit_env
from bench.players import RANDOM_BOARD, RISING_BOARD, RisingScores, SignedIn
from bench.records import CacheSample, MixedResults, MixRecord
from bench.runner import Load, Wrk
from bench.worker_metrics import Scrape, delta, scrape
from bench.wrk import WrkResult

READ_CONNECTIONS = 48
WRITE_CONNECTIONS = 16
CACHE = "leaderboard_top_page_cache_total"
# (reads, submissions): the top page beside both kinds, the other reads beside rising ones.
MIXES = [("top-100", "random"), ("top-100", "rising"), ("rank", "rising"), ("around ±5", "rising")]


def cache_sample(before: Scrape, after: Scrape) -> CacheSample:
    hits = delta(before, after, CACHE, result="hit")
    misses = delta(before, after, CACHE, result="miss")
    shared = delta(before, after, CACHE, result="shared")
    asked = hits + misses + shared
    return {
        "hits": hits,
        "misses": misses,
        "shared": shared,
        "hit_rate": (hits + shared) / asked if asked else None,
    }


def read_env(name: str, board: str, player_ids: list[str]) -> dict[str, str]:
    """wrk's environment of one of the three reads on ``board``."""
    if name == "top-100":
        return {"BENCH_PATH": f"/v1/leaderboards/{board}/top?limit=100"}
    tail = "/around?radius=5" if name == "around ±5" else ""
    slug = "around" if tail else "rank"
    paths = [f"/v1/leaderboards/{board}/players/{p}{tail}" for p in player_ids]
    return {"BENCH_PATHS": write_lines(f"mix-{slug}-{board}.txt", paths)}


def measure(wrk: Wrk, base: str, signed: SignedIn, rising: RisingScores) -> MixedResults:
    rc, wc = READ_CONNECTIONS, WRITE_CONNECTIONS
    ids = signed.player_ids[: signed.players]
    board_of = {"random": RANDOM_BOARD, "rising": RISING_BOARD}
    solo_reads: dict[tuple[str, str], WrkResult] = {}
    solo_cache: CacheSample | None = None
    for name, kind in MIXES:
        board = board_of[kind]
        if (name, board) in solo_reads:
            continue
        before = scrape(base) if name == "top-100" else None
        solo_reads[(name, board)] = wrk(
            f"{name} alone on {board} (c{rc})",
            base,
            "get.lua",
            read_env(name, board, ids),
            connections=rc,
        )
        if before is not None and solo_cache is None:
            solo_cache = cache_sample(before, scrape(base))
    solo_submit = {
        kind: wrk(
            f"submit ({kind}) alone (c{wc})",
            base,
            "player_submit.lua",
            submit_env(signed, kind, rising),
            connections=wc,
        )
        for kind in ("random", "rising")
    }
    mixes: list[MixRecord] = []
    for name, kind in MIXES:
        board = board_of[kind]
        before = scrape(base) if name == "top-100" else None
        (r, w), cpu = wrk.together(
            [
                Load(
                    f"{name} beside {kind} submissions (c{rc})",
                    base,
                    "get.lua",
                    read_env(name, board, ids),
                    rc,
                ),
                Load(
                    f"submit ({kind}) beside {name} (c{wc})",
                    base,
                    "player_submit.lua",
                    submit_env(signed, kind, rising),
                    wc,
                ),
            ]
        )
        solo, solo_w = solo_reads[(name, board)], solo_submit[kind]
        mixes.append(
            {
                "name": name,
                "submissions": kind,
                "board": board,
                "reads": {
                    "run": r.as_dict(),
                    "solo": solo.as_dict(),
                    "ratio": r.rps / solo.rps if solo.rps else 0.0,
                },
                "writes": {
                    "run": w.as_dict(),
                    "solo": solo_w.as_dict(),
                    "ratio": w.rps / solo_w.rps if solo_w.rps else 0.0,
                },
                "cpu_us_per_request": cpu,
                "cache": cache_sample(before, scrape(base)) if before else None,
                "placement": wrk.placement,
            }
        )
    return {
        "board": f"{RANDOM_BOARD}, {RISING_BOARD}",
        "read_connections": rc,
        "write_connections": wc,
        "mixes": mixes,
        "solo_cache": solo_cache,
        "players": signed.players,
    }
