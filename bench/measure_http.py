"""The wrk runs against the service and the bare app (docs/benchmarks.md, Throughput).

/hello first and last, rank lookups at every board size, around, top-100, score
submission as the admin, the signed-in players' loads (measure_players.py), and
signed-in submissions paced at half their peak rate and once under py-spy.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench import measure_players, profile
from bench.common import Options, write_lines
from bench.load import Board, player
from bench.players import RisingScores, SignedIn
from bench.records import PacedRecord, Profile, ProfiledRun, RankBySize, Runs
from bench.records_players import PlayerLoads
from bench.runner import Wrk
from bench.servers import Servers
from bench.wrk import WrkResult, combined

SCORE_BASE = 2_000_000_000  # above every preloaded score: each submission improves `best`
PACED_CONNECTIONS = 8


@dataclass(frozen=True, slots=True)
class HttpResults:
    runs: Runs
    rank_by_size: list[RankBySize]
    profile: Profile | None
    players: PlayerLoads


def rank_by_size(wrk: Wrk, opts: Options, base: str, boards: list[Board]) -> list[RankBySize]:
    """Rank lookups at every size: warm the profile cache of the sampled players first.

    Each size is measured twice, in ascending then descending order of size, and the
    halves combined: a machine that slows down (or speeds up) during the sequence then
    weighs on every size alike instead of on the last one.
    """
    d, shortest = opts.duration, opts.min_run_s
    envs = {}
    for b in boards:
        paths = write_lines(
            f"rank-{b.id}.txt", [f"/v1/leaderboards/{b.id}/players/{p}" for p in b.sample_ids]
        )
        envs[b.id] = {"BENCH_PATHS": paths}
        wrk(f"warm-up {b.id}", base, "get.lua", envs[b.id], duration=max(shortest, d / 5))
    loaded: dict[str, list[WrkResult]] = {b.id: [] for b in boards}
    single: dict[str, list[WrkResult]] = {b.id: [] for b in boards}
    for b in [*boards, *reversed(boards)]:
        env = envs[b.id]
        loaded[b.id].append(
            wrk(f"rank {b.id} (c{opts.connections})", base, "get.lua", env, duration=d / 2)
        )
        single[b.id].append(
            wrk(
                f"rank {b.id} (c1)",
                base,
                "get.lua",
                env,
                connections=1,
                duration=max(shortest, d * 0.15),
            )
        )
    return [
        {
            "size": b.size,
            "board": b.id,
            "loaded": combined(f"rank {b.id}", loaded[b.id]).as_dict(),
            "single": combined(f"rank {b.id} (c1)", single[b.id]).as_dict(),
        }
        for b in boards
    ]


def submit_paced(
    wrk: Wrk, opts: Options, base: str, env: dict[str, str], peak: float
) -> PacedRecord:
    """Signed-in submissions (random scores) at half their peak rate, paced with wrk's
    delay() over 8 connections.

    The rate is about conns / (delay + latency); calibrate the delay twice with short runs.
    """
    target = peak / 2
    conns = PACED_CONNECTIONS
    delay = conns * 1000 / target
    for k in range(2):
        cal = wrk(
            f"submit paced (calibration {k + 1})",
            base,
            "player_submit.lua",
            {**env, "BENCH_DELAY_MS": f"{delay:.3f}"},
            connections=conns,
            duration=max(opts.min_run_s, opts.duration / 4),
        )
        delay *= min(2.0, max(0.25, cal.rps / target))
    paced = wrk(
        "submit paced at ½ peak",
        base,
        "player_submit.lua",
        {**env, "BENCH_DELAY_MS": f"{delay:.3f}"},
        connections=conns,
    )
    return {**paced.as_dict(), "target_rps": target, "delay_ms": delay}


def load_tests(
    wrk: Wrk,
    opts: Options,
    servers: Servers,
    boards: list[Board],
    admin_token: str,
    signed: SignedIn,
    rising: RisingScores,
) -> HttpResults:
    base, hello = servers.base, f"{servers.hello}/hello"
    small = boards[0]
    hello_start = wrk("bare /hello", hello, "get.lua", {"BENCH_PATH": "/hello"}).as_dict()
    by_size = rank_by_size(wrk, opts, base, boards)
    paths = write_lines(
        "around.txt",
        [f"/v1/leaderboards/{small.id}/players/{p}/around?radius=5" for p in small.sample_ids],
    )
    around = wrk("around ±5", base, "get.lua", {"BENCH_PATHS": paths}).as_dict()
    top100 = wrk(
        "top-100", base, "get.lua", {"BENCH_PATH": f"/v1/leaderboards/{small.id}/top?limit=100"}
    ).as_dict()
    ids = write_lines("submit-ids.txt", [player(i)[0] for i in range(small.size)])
    sub_env = {"BENCH_IDS": ids, "BENCH_BOARD": small.id, "BENCH_ADMIN_TOKEN": admin_token}
    submit = wrk(
        "submit score (admin)",
        base,
        "submit.lua",
        {**sub_env, "BENCH_SCORE_BASE": str(SCORE_BASE)},
    ).as_dict()
    players = measure_players.measure(wrk, base, signed, rising)
    random_env = measure_players.submit_env(signed, "random")
    paced = submit_paced(wrk, opts, base, random_env, players["submit_random"]["rps"])
    profiled: ProfiledRun = {}
    summary = None
    if not opts.no_profile:
        secs = int(max(3, opts.duration))
        recorded = profile.record(
            servers.worker_pids(),
            secs,
            lambda: wrk(
                "submit as a player (under py-spy)",
                base,
                "player_submit.lua",
                random_env,
                duration=secs - 1,
            ),
        )
        if recorded is not None:
            run, summary = recorded
            profiled["submit_profiled"] = run.as_dict()
    hello_end = wrk(
        "bare /hello (again, at the end)", hello, "get.lua", {"BENCH_PATH": "/hello"}
    ).as_dict()
    runs: Runs = {
        "hello": hello_start,
        "rank": by_size[0]["loaded"],
        "around": around,
        "top100": top100,
        "submit": submit,
        "submit_paced": paced,
        **profiled,
        "hello_end": hello_end,
    }
    return HttpResults(runs=runs, rank_by_size=by_size, profile=summary, players=players)
