"""wrk against the servers under test: each run's CPU per request, every result kept.

:class:`Wrk` runs one load (or several at once, :meth:`Wrk.together`) with bench/wrk.py,
adds the service's CPU per request (psutil) and, with a meter, Postgres' and Redis'
(bench/store_cpu.py), prints a line per run and keeps them all (the smoke run's verdict
reads them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import Options, console
from bench.placement import placement
from bench.servers import Servers
from bench.store_cpu import StoreCpu, StoreMeter, StoreReading
from bench.wrk import WrkResult, finish_wrk, run_wrk, start_wrk


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
        # The last run of several loads at once: per worker, each load's connections.
        self.placement: list[list[int]] | None = None

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
            self.placement = (
                placement(url, [s.proc.pid for s in started], self.servers.worker_pids())
                if url.startswith(self.servers.base)
                else None
            )
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


def failed_runs(history: list[WrkResult]) -> list[WrkResult]:
    """Runs that saw socket errors or non-2xx/3xx answers."""
    return [r for r in history if r.errors or r.non_2xx]
