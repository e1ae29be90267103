"""The leaderboard benchmark, end to end: `bash bench/run.sh [--quick]` (docs/benchmarks.md).

1. create the database `leaderboard_bench`, migrate it, preload the boards (COPY +
   pipelined Redis writes, Redis db 15 under the key prefix `lbbench:`), check one board
   against the service's own `leaderboard rebuild`;
2. start the service (`leaderboard serve --workers N`) and the bare Litestar app;
3. wrk: /hello, rank lookups at every board size, around, top-100, score submission
   (flat out, paced at half that rate, and once under py-spy);
4. Redis ZRANK / index_read.lua server time and memory per entry, Postgres-only ranks;
5. write the report (+ plot), then stop everything, unlink the keys, drop the database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from redis.asyncio import Redis
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from bench import load
from bench.profile import summarise
from bench.wrk import WrkResult, combined, run_wrk
from leaderboard.keys import Keys

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
RUN = RESULTS / "run"
console = Console()


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: boards of 10k and 100k, 3 s per wrk run; report goes to "
        "bench/results/quick.md instead of docs/benchmarks.md",
    )
    p.add_argument("--sizes", help="board sizes, comma-separated (default 10000,1000000,10000000)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--duration", type=float, help="seconds per wrk run (default 10; quick 3)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--db-name", default="leaderboard_bench")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    p.add_argument("--key-prefix", default="lbbench:")
    p.add_argument("--report", help="where to write the Markdown report")
    p.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    a = p.parse_args()
    if a.sizes:
        a.sizes = [int(s.replace("_", "")) for s in a.sizes.split(",")]
    else:
        a.sizes = [10_000, 100_000] if a.quick else [10_000, 1_000_000, 10_000_000]
    a.duration = a.duration or (3.0 if a.quick else 10.0)
    if a.report:
        a.report = Path(a.report)
        a.plot = a.report.with_suffix(".png")
    elif a.quick:
        a.report, a.plot = RESULTS / "quick.md", RESULTS / "quick-rank-latency.png"
    else:
        a.report = ROOT / "docs" / "benchmarks.md"
        a.plot = ROOT / "docs" / "images" / "benchmark-rank-latency.png"
    return a


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def step(msg: str) -> None:
    console.print(f"[bold cyan]▶[/] {msg}")


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.a = args
        self.t0 = time.monotonic()
        self.db_url = f"{args.pg_url}/{args.db_name}"
        self.token = secrets.token_urlsafe(24)
        self.keys = Keys(args.key_prefix)
        self.procs: list[subprocess.Popen] = []
        self.db_created = False
        self.redis: Redis | None = None
        self.res: dict = {
            "mode": "quick" if args.quick else "full",
            "sizes": args.sizes,
            "workers": args.workers,
            "duration_s": args.duration,
            "connections": args.connections,
            "command": " ".join(["bash bench/run.sh", *sys.argv[1:]]),
        }
        self.env = {
            **os.environ,
            "LEADERBOARD_DATABASE_URL": self.db_url,
            "LEADERBOARD_REDIS_URL": args.redis_url,
            "LEADERBOARD_REDIS_KEY_PREFIX": args.key_prefix,
            "LEADERBOARD_ADMIN_TOKEN": self.token,
            "LEADERBOARD_AUTH_RATE_LIMIT": "10000",
            "LEADERBOARD_DATA_DIR": str(RUN / "data"),
        }

    # ---------------------------------------------------------------- setup / teardown
    async def setup(self) -> None:
        RUN.mkdir(parents=True, exist_ok=True)
        for tool in ("wrk", "uv"):
            if shutil.which(tool) is None:
                raise SystemExit(f"error: {tool} is not installed")
        self.redis = Redis.from_url(self.a.redis_url, decode_responses=True, socket_timeout=120)
        await self.redis.ping()
        self.res["redis_db_keys_before"] = await self.redis.dbsize()
        left = await self.unlink_keys()
        if left:
            console.print(f"removed {left} keys left by an earlier run under {self.a.key_prefix}")
        sys_conn = await asyncpg.connect(f"{self.a.pg_url}/postgres")
        try:
            await sys_conn.execute(f'DROP DATABASE IF EXISTS "{self.a.db_name}" WITH (FORCE)')
            await sys_conn.execute(f'CREATE DATABASE "{self.a.db_name}"')
            self.db_created = True
        finally:
            await sys_conn.close()
        subprocess.run(
            ["uv", "run", "--no-sync", "leaderboard", "migrate"],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )

    async def unlink_keys(self) -> int:
        assert self.redis is not None
        n = 0
        async for batch in self._scan_batches(f"{self.a.key_prefix}*"):
            n += await self.redis.unlink(*batch)
        return n

    async def _scan_batches(self, pattern: str):
        assert self.redis is not None
        cursor = 0
        while True:
            cursor, keys = await self.redis.scan(cursor, match=pattern, count=1000)
            if keys:
                yield keys
            if cursor == 0:
                return

    async def teardown(self) -> None:
        self.stop_processes()
        if self.redis is not None:
            with contextlib.suppress(Exception):
                n = await self.unlink_keys()
                left = [k async for b in self._scan_batches(f"{self.a.key_prefix}*") for k in b]
                console.print(
                    f"cleanup: unlinked {n} Redis keys ({len(left)} left under {self.a.key_prefix})"
                )
            await self.redis.aclose()
        if self.db_created:
            conn = await asyncpg.connect(f"{self.a.pg_url}/postgres")
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.a.db_name}" WITH (FORCE)')
                console.print(f"cleanup: dropped database {self.a.db_name}")
            finally:
                await conn.close()

    def stop_processes(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)  # our own process group (start_new_session)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)
        self.procs.clear()

    # ---------------------------------------------------------------- preload
    async def preload(self) -> None:
        assert self.redis is not None
        a = self.a
        self.boards = load.make_boards(a.sizes, self.keys, samples=2000)
        total = max(a.sizes)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as bar:
            task = bar.add_task(
                f"players (boards {', '.join(b.id for b in self.boards)})", total=total
            )
            timings = await load.preload(
                self.db_url,
                a.redis_url,
                self.redis,
                self.boards,
                lambda n: bar.advance(task, n),
                scratch_prefix=f"{a.key_prefix}scratch:",
            )
        self.res["load"] = timings
        console.print(
            f"loaded {timings['rows']:,} score rows in {timings['load_s']:.1f} s, "
            f"VACUUM ANALYZE {timings['vacuum_s']:.1f} s"
        )
        # Check our index against the service's own rebuild on the smallest board.
        small = self.boards[0]
        before = await load.snapshot(self.redis, small.keys)
        out = subprocess.run(
            ["uv", "run", "--no-sync", "leaderboard", "rebuild", small.id],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        after = await load.snapshot(self.redis, small.keys)
        same = before == after and len(after[0]) == small.size
        self.res["rebuild_check"] = {
            "board": small.id,
            "identical": same,
            "output": out.stdout.strip().splitlines()[-1:],
        }
        console.print(f"index of {small.id} identical to `leaderboard rebuild`'s: {same}")
        if not same:
            raise SystemExit("error: the preloaded index differs from the service's rebuild")

    # ---------------------------------------------------------------- processes
    def start(self, name: str, cmd: list[str], health: str) -> None:
        log = open(RUN / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        p = subprocess.Popen(
            cmd,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(p)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise SystemExit(f"error: {name} exited; see {RUN / (name + '.log')}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(health, timeout=1).status_code == 200:
                    return
            time.sleep(0.3)
        raise SystemExit(f"error: {name} did not become healthy; see {RUN / (name + '.log')}")

    def start_servers(self) -> None:
        w = str(self.a.workers)
        self.port, self.hello_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.hello = f"http://127.0.0.1:{self.hello_port}"
        self.start(
            "service",
            [
                "uv",
                "run",
                "--no-sync",
                "leaderboard",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                w,
            ],
            f"{self.base}/ready",
        )
        self.start(
            "hello",
            [
                "uv",
                "run",
                "--no-sync",
                "uvicorn",
                "bench.hello_app:app",
                "--port",
                str(self.hello_port),
                "--workers",
                w,
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--no-access-log",
                "--no-server-header",
                "--log-level",
                "warning",
            ],
            f"{self.hello}/hello",
        )
        self.service_proc = self.procs[0]

    def workers(self) -> list[int]:
        """PIDs of the service's uvicorn worker processes."""
        root = psutil.Process(self.service_proc.pid)
        return [
            c.pid
            for c in root.children(recursive=True)
            if any("spawn_main" in part for part in c.cmdline())
        ]

    def server_cpu_seconds(self, url: str) -> float:
        """User + system CPU so far of every process of the server behind ``url``."""
        proc = self.procs[1] if url.startswith(self.hello) else self.service_proc
        root = psutil.Process(proc.pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                t = p.cpu_times()
                total += t.user + t.system
        return total

    # ---------------------------------------------------------------- load tests
    def wrk(
        self,
        name: str,
        url: str,
        script: str,
        env: dict[str, str],
        *,
        connections: int | None = None,
        duration: float | None = None,
    ) -> WrkResult:
        cpu_before = self.server_cpu_seconds(url)
        r = run_wrk(
            name,
            url,
            script,
            env,
            connections=connections or self.a.connections,
            duration=duration or self.a.duration,
        )
        if r.requests:
            r.cpu_us_per_request = (self.server_cpu_seconds(url) - cpu_before) / r.requests * 1e6
        console.print(
            f"  {name:<34} {r.rps:>9,.0f} req/s  p50 {r.p50_ms:6.2f} ms  "
            f"p99 {r.p99_ms:7.2f} ms  errors {r.errors}  "
            f"cpu {r.cpu_us_per_request or 0:,.0f} µs/req"
        )
        return r

    def write_paths(self, name: str, paths: list[str]) -> str:
        f = RUN / name
        f.write_text("\n".join(paths) + "\n")
        return str(f)

    def load_tests(self) -> None:
        a, d = self.a, self.a.duration
        runs: dict[str, dict] = {}
        small = self.boards[0]
        runs["hello"] = self.wrk(
            "bare /hello", f"{self.hello}/hello", "get.lua", {"BENCH_PATH": "/hello"}
        ).as_dict()
        # Rank lookups at every size: warm the profile cache of the sampled players first.
        # Each size is measured twice, in ascending then descending order of size, and the
        # halves combined: a machine that slows down (or speeds up) during the sequence
        # then weighs on every size alike instead of on the last one.
        envs = {}
        for b in self.boards:
            paths = self.write_paths(
                f"rank-{b.id}.txt", [f"/v1/leaderboards/{b.id}/players/{p}" for p in b.sample_ids]
            )
            envs[b.id] = {"BENCH_PATHS": paths}
            self.wrk(f"warm-up {b.id}", self.base, "get.lua", envs[b.id], duration=max(2.0, d / 5))
        halves: dict[str, dict[str, list[WrkResult]]] = {
            b.id: {"loaded": [], "single": []} for b in self.boards
        }
        for b in [*self.boards, *reversed(self.boards)]:
            env = envs[b.id]
            halves[b.id]["loaded"].append(
                self.wrk(
                    f"rank {b.id} (c{a.connections})", self.base, "get.lua", env, duration=d / 2
                )
            )
            halves[b.id]["single"].append(
                self.wrk(
                    f"rank {b.id} (c1)",
                    self.base,
                    "get.lua",
                    env,
                    connections=1,
                    duration=max(2.0, d * 0.15),
                )
            )
        per_size = [
            {
                "size": b.size,
                "board": b.id,
                "loaded": combined(f"rank {b.id}", halves[b.id]["loaded"]).as_dict(),
                "single": combined(f"rank {b.id} (c1)", halves[b.id]["single"]).as_dict(),
            }
            for b in self.boards
        ]
        self.res["rank_by_size"] = per_size
        runs["rank"] = per_size[0]["loaded"]
        paths = self.write_paths(
            "around.txt",
            [f"/v1/leaderboards/{small.id}/players/{p}/around?radius=5" for p in small.sample_ids],
        )
        runs["around"] = self.wrk(
            "around ±5", self.base, "get.lua", {"BENCH_PATHS": paths}
        ).as_dict()
        runs["top100"] = self.wrk(
            "top-100",
            self.base,
            "get.lua",
            {"BENCH_PATH": f"/v1/leaderboards/{small.id}/top?limit=100"},
        ).as_dict()
        ids = RUN / "submit-ids.txt"
        ids.write_text("\n".join(load.player(i)[0] for i in range(small.size)) + "\n")
        base = 2_000_000_000
        sub_env = {"BENCH_IDS": str(ids), "BENCH_BOARD": small.id, "BENCH_ADMIN_TOKEN": self.token}
        runs["submit"] = self.wrk(
            "submit score", self.base, "submit.lua", {**sub_env, "BENCH_SCORE_BASE": str(base)}
        ).as_dict()
        # Half the peak rate, paced with wrk's delay() over 8 connections. The rate is
        # about conns / (delay + latency); calibrate the delay twice with short runs.
        target = runs["submit"]["rps"] / 2
        conns = 8
        delay = conns * 1000 / target
        for k in range(2):
            cal = self.wrk(
                f"submit paced (calibration {k + 1})",
                self.base,
                "submit.lua",
                {
                    **sub_env,
                    "BENCH_SCORE_BASE": str(base + (k + 1) * 50_000_000),
                    "BENCH_DELAY_MS": f"{delay:.3f}",
                },
                connections=conns,
                duration=max(2.0, d / 4),
            )
            delay *= min(2.0, max(0.25, cal.rps / target))
        paced = self.wrk(
            "submit paced at ½ peak",
            self.base,
            "submit.lua",
            {
                **sub_env,
                "BENCH_SCORE_BASE": str(base + 200_000_000),
                "BENCH_DELAY_MS": f"{delay:.3f}",
            },
            connections=conns,
        )
        runs["submit_paced"] = {**paced.as_dict(), "target_rps": target, "delay_ms": delay}
        if not a.no_profile:
            runs["submit_profiled"], self.res["profile"] = self.profile(
                {**sub_env, "BENCH_SCORE_BASE": str(base + 300_000_000)}
            )
        runs["hello_end"] = self.wrk(
            "bare /hello (again, at the end)",
            f"{self.hello}/hello",
            "get.lua",
            {"BENCH_PATH": "/hello"},
        ).as_dict()
        self.res["runs"] = runs

    def profile(self, env: dict[str, str]) -> tuple[dict, dict]:
        spy = shutil.which("py-spy")
        if spy is None:
            console.print("[yellow]py-spy not found (run through bench/run.sh); no profile[/]")
            return {}, {}
        pids = self.workers()
        secs = int(max(3, self.a.duration))
        spies = []
        for pid in pids:
            out = RUN / f"profile-{pid}.txt"
            spies.append(
                (
                    out,
                    subprocess.Popen(
                        [
                            spy,
                            "record",
                            "--pid",
                            str(pid),
                            "--duration",
                            str(secs),
                            "--rate",
                            "200",
                            "--nonblocking",
                            "--full-filenames",
                            "--format",
                            "raw",
                            "--output",
                            str(out),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        start_new_session=True,
                    ),
                )
            )
        time.sleep(0.5)
        r = self.wrk("submit score (under py-spy)", self.base, "submit.lua", env, duration=secs - 1)
        raw = RUN / "profile.txt"
        with raw.open("w") as merged:
            for out, p in spies:
                _, err = p.communicate(timeout=60)
                if out.exists():
                    merged.write(out.read_text())
                else:
                    console.print(f"[yellow]py-spy failed: {err.decode()[-300:]}[/]")
        summary = summarise(raw)
        summary["raw"] = str(raw.relative_to(ROOT))
        summary["workers"] = len(pids)
        for row in summary["top_self"]:
            console.print(f"  {row['pct']:5.1f} %  {row['function']}  ({row['file']})")
        return r.as_dict(), summary

    # ---------------------------------------------------------------- Redis and Postgres alone
    async def redis_measurements(self) -> None:
        assert self.redis is not None
        r = self.redis
        script = r.register_script((ROOT / "leaderboard/boards/index_read.lua").read_text())
        out = []
        for b in self.boards:
            members = await r.hmget(b.keys.members, b.sample_ids)
            stats0 = await r.info("commandstats")
            pipe = r.pipeline(transaction=False)
            for m in members:
                pipe.zrank(b.keys.scores, m)
            await pipe.execute()
            pipe = r.pipeline(transaction=False)
            for pid in b.sample_ids:
                await script(
                    keys=[b.keys.scores, b.keys.members, b.keys.ready, b.keys.lock],
                    args=["around", pid, 0],
                    client=pipe,
                )
            await pipe.execute()
            stats1 = await r.info("commandstats")

            def per_call(cmd: str, stats0: Any = stats0, stats1: Any = stats1) -> float | None:
                k = f"cmdstat_{cmd}"
                calls = stats1.get(k, {}).get("calls", 0) - stats0.get(k, {}).get("calls", 0)
                usec = stats1.get(k, {}).get("usec", 0) - stats0.get(k, {}).get("usec", 0)
                return usec / calls if calls else None

            rtt = []
            for m in members[:500]:
                t = time.perf_counter()
                await r.zrank(b.keys.scores, m)
                rtt.append((time.perf_counter() - t) * 1e6)
            mem = await self.memory(b)
            out.append(
                {
                    "size": b.size,
                    "board": b.id,
                    "zrank_server_us": per_call("zrank"),
                    "index_read_server_us": per_call("evalsha"),
                    "zrank_roundtrip_us": statistics.median(rtt),
                    **mem,
                }
            )
            console.print(
                f"  {b.id}: ZRANK {out[-1]['zrank_server_us']:.2f} µs server, "
                f"{out[-1]['zrank_roundtrip_us']:.0f} µs round trip; "
                f"{mem['bytes_per_entry']:.0f} B/entry vs bare "
                f"{mem['bare_bytes_per_entry']:.0f} B"
            )
        self.res["redis"] = out

    async def memory(self, b: load.Board) -> dict:
        assert self.redis is not None
        samples = 0 if b.size <= 1_000_000 else 10_000  # members have one fixed length
        z = await self.redis.memory_usage(b.keys.scores, samples=samples)
        m = await self.redis.memory_usage(b.keys.members, samples=samples)
        bare = await self.redis.memory_usage(f"{self.a.key_prefix}scratch:{b.id}", samples=samples)
        n = b.size
        return {
            "zset_bytes": z,
            "hash_bytes": m,
            "bare_zset_bytes": bare,
            "bytes_per_entry": (z + m) / n,
            "zset_per_entry": z / n,
            "hash_per_entry": m / n,
            "bare_bytes_per_entry": bare / n,
            "ratio_to_bare": (z + m) / bare,
            "memory_samples": samples,
        }

    async def postgres_ranks(self) -> None:
        conn = await asyncpg.connect(self.db_url)
        out = []
        try:
            t = time.perf_counter()
            await conn.execute(
                "CREATE INDEX bench_scores_rank ON scores "
                "(leaderboard_id, period_start, score DESC)"
            )
            await conn.execute("VACUUM (ANALYZE) scores")
            index_s = time.perf_counter() - t
            q = (
                "SELECT count(*) FROM scores WHERE leaderboard_id = $1 "
                "AND period_start = $2 AND score > $3"
            )
            stmt = await conn.prepare(q)
            period = dt.date(1970, 1, 1)
            for b in self.boards:
                plan = await conn.fetchval(
                    f"EXPLAIN (ANALYZE, COSTS OFF, FORMAT JSON) {q}",
                    b.id,
                    period,
                    b.sample_scores[0],
                )
                node = json.loads(plan)[0]["Plan"] if isinstance(plan, str) else plan[0]["Plan"]
                inner = node.get("Plans", [{}])[0].get("Node Type", node["Node Type"])
                times = []
                budget = time.perf_counter() + (3 if self.a.quick else 8)
                for s in b.sample_scores[1:31]:
                    t = time.perf_counter()
                    await stmt.fetchval(b.id, period, s)
                    times.append((time.perf_counter() - t) * 1000)
                    if time.perf_counter() > budget and len(times) >= 5:
                        break
                out.append(
                    {
                        "size": b.size,
                        "board": b.id,
                        "queries": len(times),
                        "median_ms": statistics.median(times),
                        "min_ms": min(times),
                        "max_ms": max(times),
                        "plan": inner,
                    }
                )
                console.print(
                    f"  {b.id}: Postgres count(*) rank median "
                    f"{out[-1]['median_ms']:.2f} ms over {len(times)} ({inner})"
                )
            await conn.execute("DROP INDEX bench_scores_rank")
        finally:
            await conn.close()
        self.res["postgres"] = {"index_build_s": index_s, "by_size": out}

    # ---------------------------------------------------------------- facts
    async def facts(self) -> None:
        assert self.redis is not None

        def ver(pkg: str) -> str:
            try:
                return importlib.metadata.version(pkg)
            except importlib.metadata.PackageNotFoundError:
                return "-"

        cpu = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            ),
            platform.processor(),
        )
        conn = await asyncpg.connect(self.db_url)
        try:
            pg = await conn.fetchval("SHOW server_version")
            shared = await conn.fetchval("SHOW shared_buffers")
        finally:
            await conn.close()
        info = await self.redis.info("server")
        wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
        self.res["facts"] = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": f"{os.cpu_count()} × {cpu}",
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "kernel": platform.release(),
            "python": platform.python_version(),
            "packages": {
                p: ver(p)
                for p in (
                    "litestar",
                    "uvicorn",
                    "uvloop",
                    "httptools",
                    "redis",
                    "hiredis",
                    "asyncpg",
                    "msgspec",
                )
            },
            "redis_server": info.get("redis_version"),
            "postgres": f"{pg} (shared_buffers {shared})",
            "wrk": wrk_v.split(" [")[0],
        }

    async def run(self) -> None:
        try:
            step("setup: database, migrations, Redis db 15 / prefix " + self.a.key_prefix)
            await self.setup()
            await self.facts()
            step(f"preload boards of {', '.join(f'{s:,}' for s in self.a.sizes)} players")
            await self.preload()
            step(f"start the service and the bare app ({self.a.workers} uvicorn workers each)")
            self.start_servers()
            step(f"wrk -t1 -c{self.a.connections} -d{self.a.duration:g}s --latency")
            self.load_tests()
            self.stop_processes()  # Redis/Postgres measurements run on a quiet machine
            step("Redis alone: ZRANK and index_read.lua server time, memory per entry")
            await self.redis_measurements()
            step("Postgres alone: rank by count(*) over an index on (board, period, score desc)")
            await self.postgres_ranks()
        finally:
            step("cleanup")
            await self.teardown()
        self.res["elapsed_s"] = time.monotonic() - self.t0
        from bench.report import write_report

        (RESULTS / f"{self.res['mode']}.json").write_text(json.dumps(self.res, indent=2))
        write_report(self.res, self.a.report, self.a.plot, ROOT)
        console.print(
            f"[bold green]done[/] in {self.res['elapsed_s'] / 60:.1f} min: "
            f"{self.a.report.relative_to(ROOT)}, {self.a.plot.relative_to(ROOT)}"
        )


def main() -> None:
    asyncio.run(Bench(parse_args()).run())


if __name__ == "__main__":
    main()
