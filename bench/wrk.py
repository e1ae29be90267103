"""Run wrk with one of the Lua scripts in bench/lua and parse its JSON result line.

`start_wrk` and `finish_wrk` apart let several wrk processes run at the same time (the
mixed load); `run_wrk` is both in one.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.records import WrkRecord

LUA_DIR = Path(__file__).parent / "lua"


@dataclass
class WrkResult:
    name: str
    connections: int
    duration_s: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: int  # socket errors + non-2xx/3xx answers
    non_2xx: int
    # CPU (user + system) of the server's processes per request: unlike req/s, barely
    # moved by whatever else this noisy machine runs at the same time.
    cpu_us_per_request: float | None = None
    # Postgres' (the database's backends) and Redis' (the whole server) CPU per request
    # during the run (bench/store_cpu.py); None when not measured.
    postgres_cpu_us_per_request: float | None = None
    redis_cpu_us_per_request: float | None = None
    redis_other_clients: int | None = None  # clients of other Redis dbs meanwhile
    # What the script counted in its answers (player_submit.lua: changed, unchanged).
    counters: dict[str, int] = field(default_factory=dict)
    # Non-2xx answers that the script printed (once.lua: the first few), for the console.
    answers: list[str] = field(default_factory=list)
    # 2xx answers' bodies that the script printed (once.lua with BENCH_PRINT=1).
    bodies: list[str] = field(default_factory=list)

    def as_dict(self) -> WrkRecord:
        return {
            "name": self.name,
            "connections": self.connections,
            "duration_s": self.duration_s,
            "requests": self.requests,
            "rps": self.rps,
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "mean_ms": self.mean_ms,
            "max_ms": self.max_ms,
            "errors": self.errors,
            "non_2xx": self.non_2xx,
            "cpu_us_per_request": self.cpu_us_per_request,
            "postgres_cpu_us_per_request": self.postgres_cpu_us_per_request,
            "redis_cpu_us_per_request": self.redis_cpu_us_per_request,
            "redis_other_clients": self.redis_other_clients,
            "counters": dict(self.counters),
        }


def combined(name: str, runs: list[WrkResult]) -> WrkResult:
    """Several runs of one load as one: totals summed, latencies and CPU averaged.

    Percentiles cannot be merged exactly from summaries; the mean of the runs' p50/p99
    is what the report needs (runs of equal length and similar load).
    """
    requests = sum(r.requests for r in runs)
    duration = sum(r.duration_s for r in runs)

    def mean(field: str) -> float:
        return float(sum(getattr(r, field) for r in runs)) / len(runs)

    def weighted(field: str) -> float | None:
        """CPU per request weighted by requests, when every run has it."""
        cpu = [(v, r.requests) for r in runs if (v := getattr(r, field)) is not None]
        return sum(c * n for c, n in cpu) / requests if requests and len(cpu) == len(runs) else None

    counters: dict[str, int] = {}
    for r in runs:
        for k, v in r.counters.items():
            counters[k] = counters.get(k, 0) + v
    others = [r.redis_other_clients for r in runs if r.redis_other_clients is not None]
    return WrkResult(
        name=name,
        connections=runs[0].connections,
        duration_s=duration,
        requests=requests,
        rps=requests / duration if duration else 0.0,
        p50_ms=mean("p50_ms"),
        p90_ms=mean("p90_ms"),
        p99_ms=mean("p99_ms"),
        mean_ms=mean("mean_ms"),
        max_ms=max(r.max_ms for r in runs),
        errors=sum(r.errors for r in runs),
        non_2xx=sum(r.non_2xx for r in runs),
        cpu_us_per_request=weighted("cpu_us_per_request"),
        postgres_cpu_us_per_request=weighted("postgres_cpu_us_per_request"),
        redis_cpu_us_per_request=weighted("redis_cpu_us_per_request"),
        redis_other_clients=max(others) if others else None,
        counters=counters,
    )


@dataclass
class Started:
    """A wrk process under way (``start_wrk``); ``finish_wrk`` waits for it and parses it."""

    name: str
    connections: int
    proc: subprocess.Popen[str]
    timeout: float


def start_wrk(
    name: str,
    url: str,
    script: str,
    env: dict[str, str],
    *,
    connections: int = 64,
    duration: float = 10,
    threads: int = 1,
) -> Started:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",  # wrk takes whole seconds
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(LUA_DIR / script),
        url,
    ]
    full_env = {**os.environ, "BENCH_LUA_DIR": str(LUA_DIR), **env}
    proc = subprocess.Popen(
        cmd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return Started(name, connections, proc, timeout=duration + 60)


def finish_wrk(started: Started) -> WrkResult:
    name, proc = started.name, started.proc
    try:
        stdout, stderr = proc.communicate(timeout=started.timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}) for {name}:\n{stdout}\n{stderr}")
    line = next((ln for ln in stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result for {name}:\n{stdout}\n{stderr}")
    # Every field of the line is a number (bench/lua/common.lua's done()); the script's own
    # counters come as "count_<name>".
    r: dict[str, float] = json.loads(line.removeprefix("BENCH_JSON "))
    counters = {k.removeprefix("count_"): int(v) for k, v in r.items() if k.startswith("count_")}
    secs = r["duration_us"] / 1e6
    socket_errors = int(
        sum(r[k] for k in ("errors_connect", "errors_read", "errors_write", "errors_timeout"))
    )
    return WrkResult(
        answers=[
            ln.removeprefix("BENCH_ANSWER ")
            for ln in stdout.splitlines()
            if ln.startswith("BENCH_ANSWER ")
        ],
        bodies=[
            ln.removeprefix("BENCH_BODY ")
            for ln in stdout.splitlines()
            if ln.startswith("BENCH_BODY ")
        ],
        name=name,
        connections=started.connections,
        duration_s=secs,
        requests=int(r["requests"]),
        rps=r["requests"] / secs if secs else 0.0,
        p50_ms=r["p50_us"] / 1000,
        p90_ms=r["p90_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        mean_ms=r["mean_us"] / 1000,
        max_ms=r["max_us"] / 1000,
        errors=socket_errors + int(r["errors_status"]),
        non_2xx=int(r["errors_status"]),
        counters=counters,
    )


def run_wrk(
    name: str,
    url: str,
    script: str,
    env: dict[str, str],
    *,
    connections: int = 64,
    duration: float = 10,
    threads: int = 1,
) -> WrkResult:
    """One wrk run to its end: ``start_wrk`` then ``finish_wrk``."""
    return finish_wrk(
        start_wrk(
            name, url, script, env, connections=connections, duration=duration, threads=threads
        )
    )
