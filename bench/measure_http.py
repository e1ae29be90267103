"""The wrk runs against the service and the bare app (docs/benchmarks.md, Throughput).

/hello first and last, rank lookups at every board size, around, top-100, score
submission as the admin, the signed-in players' loads (measure_players.py), and
signed-in submissions paced at half their peak rate and once under py-spy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import measure_players, profile
from bench.common import RUN, Options, console
from bench.load import Board, player
from bench.players import RisingScores, SignedIn
from bench.records import PacedRecord, PlayerLoads, Profile, ProfiledRun, RankBySize, Runs
from bench.servers import Servers
from bench.store_cpu import StoreCpu, StoreMeter, StoreReading
from bench.wrk import WrkResult, combined, finish_wrk, run_wrk, start_wrk

SCORE_BASE = 2_000_000_000  # above every preloaded score: each submission improves `best`
PACED_CONNECTIONS = 8


@dataclass(frozen=True, slots=True)
class Load:
    """One of several wrk processes that ``Wrk.together`` runs at the same time."""

    name: str
    url: str
    script: str
    env: dict[str, str]
    connections: int


class Wrk:
    """Runs wrk against one of the servers, adds its CPU per request, keeps every result.

    With a ``meter``, each run also gets Postgres' and Redis' CPU per request
    (bench/store_cpu.py).
    """

    def __init__(self, opts: Options, servers: Servers, meter: StoreMeter | None = None) -> None:
        self.opts = opts
        self.servers = servers
        self.meter = meter
        self.history: list[WrkResult] = []  # every run, warm-ups and calibrations included

    def _stores(self) -> StoreReading | None:
        return self.meter.read() if self.meter is not None else None

    def _add_stores(
        self, runs: list[WrkResult], before: StoreReading | None
    ) -> tuple[float, float] | None:
        """Postgres' and Redis' CPU µs per request of ``runs`` together, set on each run."""
        after = self._stores()
        requests = sum(r.requests for r in runs)
        if before is None or after is None or not requests:
            return None
        spent = StoreCpu.between(before, after)
        pg, rd = spent.postgres_s / requests * 1e6, spent.redis_s / requests * 1e6
        for r in runs:
            r.postgres_cpu_us_per_request, r.redis_cpu_us_per_request = pg, rd
            r.redis_other_clients = spent.redis_other_clients
        return pg, rd

    def __call__(
        self,
        name: str,
        url: str,
        script: str,
        env: dict[str, str],
        *,
        connections: int | None = None,
        duration: float | None = None,
    ) -> WrkResult:
        stores_before = self._stores()
        cpu_before = self.servers.cpu_seconds(url)
        r = run_wrk(
            name,
            url,
            script,
            env,
            connections=connections or self.opts.connections,
            duration=duration or self.opts.duration,
        )
        if r.requests:
            cpu = self.servers.cpu_seconds(url) - cpu_before
            r.cpu_us_per_request = cpu / r.requests * 1e6
        self._add_stores([r], stores_before)
        self._keep(r)
        if r.non_2xx and script == "get.lua":
            explain(url, env)
        return r

    def together(
        self, loads: list[Load], duration: float | None = None
    ) -> tuple[list[WrkResult], float | None]:
        """Run ``loads`` at once against one server, for the same duration.

        Returns each load's result and the server CPU µs per request of all of them
        together: the same processes serve every load, so their CPU cannot be split by load
        (nor can Postgres' and Redis', set on each result as the figure of all of them).
        """
        url = loads[0].url
        stores_before = self._stores()
        cpu_before = self.servers.cpu_seconds(url)
        started = [
            start_wrk(
                ld.name,
                ld.url,
                ld.script,
                ld.env,
                connections=ld.connections,
                duration=duration or self.opts.duration,
            )
            for ld in loads
        ]
        try:
            results = [finish_wrk(s) for s in started]
        finally:
            for s in started:
                if s.proc.poll() is None:
                    s.proc.kill()
                    s.proc.wait()
        requests = sum(r.requests for r in results)
        cpu = (self.servers.cpu_seconds(url) - cpu_before) / requests * 1e6 if requests else None
        stores = self._add_stores(results, stores_before)
        for r in results:
            self._keep(r)
        console.print(
            f"  {'(together)':<34} server cpu {cpu or 0:,.0f} µs/req over both"
            + (f" (+ Postgres {stores[0]:,.0f}, Redis {stores[1]:,.0f})" if stores else "")
        )
        return results, cpu

    def _keep(self, r: WrkResult) -> None:
        stores = (
            f" + pg {r.postgres_cpu_us_per_request:,.0f} + redis {r.redis_cpu_us_per_request:,.0f}"
            if r.postgres_cpu_us_per_request is not None and r.redis_cpu_us_per_request is not None
            else ""
        )
        counted = "".join(f"  {k} {v:,}" for k, v in r.counters.items())
        console.print(
            f"  {r.name:<34} {r.rps:>9,.0f} req/s  p50 {r.p50_ms:6.2f} ms  "
            f"p99 {r.p99_ms:7.2f} ms  errors {r.errors}  "
            + (f"cpu {cpu:,.0f}{stores} µs/req" if (cpu := r.cpu_us_per_request) else "cpu –")
            + counted
        )
        for said in r.answers:
            console.print(f"    {said}", style="red", markup=False)
        self.history.append(r)


def explain(url: str, env: dict[str, str]) -> None:
    """After a GET run with non-2xx answers: what the first of its paths answers now."""
    path = env.get("BENCH_PATH") or Path(env["BENCH_PATHS"]).read_text().split("\n", 1)[0]
    try:
        r = httpx.get(url + path, timeout=10)
        said = f"{r.status_code}: {r.text[:300]}"
    except httpx.HTTPError as e:
        said = repr(e)
    console.print(f"    GET {path[:100]} → {said}", style="red", markup=False)


@dataclass(frozen=True, slots=True)
class HttpResults:
    runs: Runs
    rank_by_size: list[RankBySize]
    profile: Profile | None
    players: PlayerLoads


def write_paths(name: str, paths: list[str]) -> str:
    f = RUN / name
    f.write_text("\n".join(paths) + "\n")
    return str(f)


def rank_by_size(wrk: Wrk, opts: Options, base: str, boards: list[Board]) -> list[RankBySize]:
    """Rank lookups at every size: warm the profile cache of the sampled players first.

    Each size is measured twice, in ascending then descending order of size, and the
    halves combined: a machine that slows down (or speeds up) during the sequence then
    weighs on every size alike instead of on the last one.
    """
    d, shortest = opts.duration, opts.min_run_s
    envs = {}
    for b in boards:
        paths = write_paths(
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
    paths = write_paths(
        "around.txt",
        [f"/v1/leaderboards/{small.id}/players/{p}/around?radius=5" for p in small.sample_ids],
    )
    around = wrk("around ±5", base, "get.lua", {"BENCH_PATHS": paths}).as_dict()
    top100 = wrk(
        "top-100", base, "get.lua", {"BENCH_PATH": f"/v1/leaderboards/{small.id}/top?limit=100"}
    ).as_dict()
    ids = RUN / "submit-ids.txt"
    ids.write_text("\n".join(player(i)[0] for i in range(small.size)) + "\n")
    sub_env = {"BENCH_IDS": str(ids), "BENCH_BOARD": small.id, "BENCH_ADMIN_TOKEN": admin_token}
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


def failed_runs(history: list[WrkResult]) -> list[WrkResult]:
    """Runs that saw socket errors or non-2xx/3xx answers."""
    return [r for r in history if r.errors or r.non_2xx]
