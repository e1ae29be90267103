"""The processes under test: the service and the bare app, and the CPU they spend.

Both run under uvicorn with the same options and number of workers, each in its own
process group (so that stopping one stops its workers), logging to bench/results/run/.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from typing import IO

import httpx
import psutil

from bench.common import ROOT, RUN, Options

HELLO_APP = "bench.hello_app:app"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def service_env(opts: Options, admin_token: str) -> dict[str, str]:
    """The environment of every `leaderboard` command the benchmark runs."""
    return {
        **os.environ,
        "LEADERBOARD_DATABASE_URL": opts.db_url,
        "LEADERBOARD_REDIS_URL": opts.redis_url,
        "LEADERBOARD_REDIS_KEY_PREFIX": opts.key_prefix,
        "LEADERBOARD_ADMIN_TOKEN": admin_token,
        # Every sign-in comes from 127.0.0.1: thousands of devices before the loads, then
        # a wrk run of sign-ins; 10,000 a second is far above what the service answers.
        "LEADERBOARD_AUTH_RATE_LIMIT": "10000",
        "LEADERBOARD_AUTH_RATE_WINDOW_SECONDS": "1",
        # The fan-out's 1,000 WebSocket subscribers all come from 127.0.0.1 too.
        "LEADERBOARD_EVENTS_MAX_STREAMS_PER_CLIENT": "10000",
        "LEADERBOARD_DATA_DIR": str(RUN / "data"),
    }


def leaderboard_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``leaderboard <args>`` (migrate, rebuild) to completion; exit if it fails."""
    try:
        return subprocess.run(
            ["uv", "run", "--no-sync", "leaderboard", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except subprocess.CalledProcessError as e:
        raise SystemExit(
            f"error: `leaderboard {' '.join(args)}` failed ({e.returncode}):\n{e.stderr[-2000:]}"
        ) from e


class Servers:
    """The service (`leaderboard serve`) and the bare Litestar app (bench/hello_app.py)."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.env = env
        self.workers = workers
        self.procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[str]] = []
        self.port, self.hello_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"  # the service
        self.hello = f"http://127.0.0.1:{self.hello_port}"  # the bare app
        self._service: subprocess.Popen[bytes] | None = None
        self._hello: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        w = str(self.workers)
        self._service = self._start(
            "service",
            [
                *("uv", "run", "--no-sync", "leaderboard", "serve"),
                *("--port", str(self.port), "--workers", w),
            ],
            f"{self.base}/ready",
        )
        self._hello = self._start(
            "hello",
            [
                *("uv", "run", "--no-sync", "uvicorn", HELLO_APP),
                *("--port", str(self.hello_port), "--workers", w),
                *("--loop", "uvloop", "--http", "httptools"),
                *("--no-access-log", "--no-server-header", "--log-level", "warning"),
            ],
            f"{self.hello}/hello",
        )

    def _start(self, name: str, cmd: list[str], health: str) -> subprocess.Popen[bytes]:
        log = (RUN / f"{name}.log").open("w")
        self._logs.append(log)
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
                    return p
            time.sleep(0.3)
        raise SystemExit(f"error: {name} did not become healthy; see {RUN / (name + '.log')}")

    def worker_pids(self) -> list[int]:
        """PIDs of the service's uvicorn worker processes."""
        assert self._service is not None
        root = psutil.Process(self._service.pid)
        return [
            c.pid
            for c in root.children(recursive=True)
            if any("spawn_main" in part for part in c.cmdline())
        ]

    def _processes(self, url: str) -> list[psutil.Process]:
        proc = self._hello if url.startswith(self.hello) else self._service
        assert proc is not None
        root = psutil.Process(proc.pid)
        return [root, *root.children(recursive=True)]

    def cpu_seconds(self, url: str) -> float:
        """User + system CPU so far of every process of the server behind ``url``."""
        total = 0.0
        for p in self._processes(url):
            with contextlib.suppress(psutil.NoSuchProcess):
                t = p.cpu_times()
                total += t.user + t.system
        return total

    def service_rss(self) -> int:
        """Resident memory (bytes) of every process of the service, summed."""
        total = 0
        for p in self._processes(self.base):
            with contextlib.suppress(psutil.NoSuchProcess):
                total += p.memory_info().rss
        return total

    def stop(self) -> None:
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
        for log in self._logs:
            log.close()
        self._logs.clear()
