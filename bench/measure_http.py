"""The wrk runs against the service and the bare app (docs/benchmarks.md, Throughput).

/hello first and last, rank lookups at every board size, around, top-100, and score
submission flat out, paced at half that rate, and once under py-spy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import profile
from bench.common import RUN, Options, console
from bench.load import Board, player
from bench.records import PacedRecord, Profile, ProfiledRun, RankBySize, Runs
from bench.servers import Servers
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
    """Runs wrk against one of the servers, adds its CPU per request, keeps every result."""

    def __init__(self, opts: Options, servers: Servers) -> None:
        self.opts = opts
        self.servers = servers
        self.history: list[WrkResult] = []  # every run, warm-ups and calibrations included

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
        self._keep(r)
        if r.non_2xx and script == "get.lua":
            explain(url, env)
        return r

    def together(
        self, loads: list[Load], duration: float | None = None
    ) -> tuple[list[WrkResult], float | None]:
        """Run ``loads`` at once against one server, for the same duration.

        Returns each load's result and the server CPU µs per request of all of them
        together: the same processes serve every load, so their CPU cannot be split by load.
        """
        url = loads[0].url
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
        for r in results:
            self._keep(r)
        console.print(f"  {'(together)':<34} server cpu {cpu or 0:,.0f} µs/req over both")
        return results, cpu

    def _keep(self, r: WrkResult) -> None:
        console.print(
            f"  {r.name:<34} {r.rps:>9,.0f} req/s  p50 {r.p50_ms:6.2f} ms  "
            f"p99 {r.p99_ms:7.2f} ms  errors {r.errors}  "
            + (f"cpu {cpu:,.0f} µs/req" if (cpu := r.cpu_us_per_request) else "cpu –")
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
    """Half the peak rate, paced with wrk's delay() over 8 connections.

    The rate is about conns / (delay + latency); calibrate the delay twice with short runs.
    """
    target = peak / 2
    conns = PACED_CONNECTIONS
    delay = conns * 1000 / target
    for k in range(2):
        cal = wrk(
            f"submit paced (calibration {k + 1})",
            base,
            "submit.lua",
            {
                **env,
                "BENCH_SCORE_BASE": str(SCORE_BASE + (k + 1) * 50_000_000),
                "BENCH_DELAY_MS": f"{delay:.3f}",
            },
            connections=conns,
            duration=max(opts.min_run_s, opts.duration / 4),
        )
        delay *= min(2.0, max(0.25, cal.rps / target))
    paced = wrk(
        "submit paced at ½ peak",
        base,
        "submit.lua",
        {
            **env,
            "BENCH_SCORE_BASE": str(SCORE_BASE + 200_000_000),
            "BENCH_DELAY_MS": f"{delay:.3f}",
        },
        connections=conns,
    )
    return {**paced.as_dict(), "target_rps": target, "delay_ms": delay}


def load_tests(
    wrk: Wrk, opts: Options, servers: Servers, boards: list[Board], admin_token: str
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
        "submit score", base, "submit.lua", {**sub_env, "BENCH_SCORE_BASE": str(SCORE_BASE)}
    ).as_dict()
    paced = submit_paced(wrk, opts, base, sub_env, submit["rps"])
    profiled: ProfiledRun = {}
    summary = None
    if not opts.no_profile:
        secs = int(max(3, opts.duration))
        env = {**sub_env, "BENCH_SCORE_BASE": str(SCORE_BASE + 300_000_000)}
        recorded = profile.record(
            servers.worker_pids(),
            secs,
            lambda: wrk("submit score (under py-spy)", base, "submit.lua", env, duration=secs - 1),
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
    return HttpResults(runs=runs, rank_by_size=by_size, profile=summary)


def failed_runs(history: list[WrkResult]) -> list[WrkResult]:
    """Runs that saw socket errors or non-2xx/3xx answers."""
    return [r for r in history if r.errors or r.non_2xx]
