"""The soak's processes: a real `leaderboard serve` with embedded servers, its faults, its RSS.

`serve --workers N` runs uvicorn's multiprocess supervisor: the worker processes are its
children (multiprocessing spawn), beside the embedded Postgres and Valkey that `serve`
supervises itself. The faults act on those processes from outside, as an operator's
`kill` would; each returns what it saw (how long until the service had a new worker or
Valkey again).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import psutil

from bench.common import ROOT

RESTART_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class FaultResult:
    minute: int
    fault: str
    detail: str
    recovered_s: float | None  # None: it did not recover within RESTART_TIMEOUT_S


@dataclass
class Sample:
    at_s: float  # seconds since the soak started
    rss: int
    uss: int  # private memory: RSS without shared pages (Postgres' buffer pool among them)


@dataclass
class Tracked:
    pid: int
    role: str
    born_s: float  # seconds since the soak started (0: before it)
    title: str = ""  # a Postgres process' title: checkpointer, a client backend …
    samples: list[Sample] = field(default_factory=list)


class Service:
    """`leaderboard serve --workers N` over embedded servers in ``data_dir``."""

    def __init__(self, data_dir: Path, workers: int, log_path: Path) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.started = time.monotonic()
        self.started_epoch = time.time()
        self.tracked: dict[int, Tracked] = {}
        self.db_timeout_s = 5.0
        self._stopped: list[psutil.Process] = []  # Postgres processes paused now

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERBOARD_")}
        env.update(
            LEADERBOARD_DATA_DIR=str(self.data_dir),
            # Every soak client signs in from 127.0.0.1.
            LEADERBOARD_AUTH_RATE_LIMIT="10000",
            LEADERBOARD_DB_TIMEOUT=str(self.db_timeout_s),
        )
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "leaderboard", "serve", *self._options()],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"error: `serve` did not start; see {self.log_path}")
            time.sleep(0.2)
        self.started = time.monotonic()
        self.started_epoch = time.time()

    def _options(self) -> list[str]:
        return ["--workers", str(self.workers), "--port", str(self.port)]

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        self.resume_postgres()  # never leave it stopped
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if self._log is not None:
            self._log.close()

    # --- what `serve` told the data directory -------------------------------------------

    @property
    def admin_token(self) -> str:
        return (self.data_dir / "admin_token").read_text().strip()

    @property
    def urls(self) -> dict[str, str]:
        urls: dict[str, str] = json.loads((self.data_dir / "servers.json").read_text())
        return urls

    # --- the processes ---------------------------------------------------------------------

    def _children(self) -> list[psutil.Process]:
        assert self.process is not None
        try:
            return psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []

    def worker_pids(self) -> list[int]:
        """uvicorn's worker processes (multiprocessing spawn), oldest first."""
        found = []
        for child in self._children():
            try:
                cmdline = " ".join(child.cmdline())
                if "spawn_main" in cmdline and "resource_tracker" not in cmdline:
                    found.append((child.create_time(), child.pid))
            except psutil.Error:
                continue
        return [pid for _, pid in sorted(found)]

    def _child_named(self, name: str) -> psutil.Process | None:
        for child in self._children():
            try:
                if child.name() == name and child.status() != psutil.STATUS_ZOMBIE:
                    return child
            except psutil.Error:
                continue
        return None

    def valkey(self) -> psutil.Process | None:
        return self._child_named("valkey-server")

    def postgres_tree(self) -> list[psutil.Process]:
        """The postmaster and every process it started (backends, checkpointer …)."""
        postmaster = self._child_named("postgres")
        if postmaster is None:
            return []
        try:
            return [postmaster, *postmaster.children(recursive=True)]
        except psutil.Error:
            return [postmaster]

    # --- faults ----------------------------------------------------------------------------

    def kill_worker(self, minute: int) -> FaultResult:
        """SIGKILL the youngest worker (the oldest lives on, so its memory can be judged)."""
        before = self.worker_pids()
        if not before:
            return FaultResult(minute, "worker killed", "no worker found", None)
        victim = before[-1]
        os.kill(victim, signal.SIGKILL)

        def replaced() -> str | None:
            now = self.worker_pids()
            if len(now) < self.workers or victim in now or not self._ready():
                return None
            started = ", ".join(map(str, sorted(set(now) - set(before))))
            return f"SIGKILL worker {victim}; uvicorn started {started}"

        return _recovery(minute, "worker killed", replaced, f"SIGKILL {victim}; no new worker")

    def restart_valkey(self, minute: int) -> FaultResult:
        """SIGKILL the embedded Valkey; `serve`'s supervisor starts it again."""
        valkey = self.valkey()
        if valkey is None:
            return FaultResult(minute, "Valkey restarted", "no Valkey found", None)
        old = valkey.pid
        valkey.send_signal(signal.SIGKILL)
        port = int(self.urls["redis_url"].rsplit(":", 1)[1].split("/")[0])

        def restarted() -> str | None:
            new = self.valkey()
            if new is None or new.pid == old or not _pong(port):
                return None
            return f"SIGKILL Valkey {old}; serve restarted it as {new.pid}"

        return _recovery(minute, "Valkey restarted", restarted, f"SIGKILL {old}; not back")

    def pause_postgres(self, minute: int, seconds: float) -> FaultResult:
        """SIGSTOP every Postgres process for ``seconds`` (past the service's timeout)."""
        tree = self.postgres_tree()
        if not tree:
            return FaultResult(minute, "Postgres paused", "no Postgres found", None)
        self._stopped = tree
        for process in tree:
            _signal(process, signal.SIGSTOP)
        time.sleep(seconds)  # the fault itself: Postgres hangs this long
        self.resume_postgres()
        done = f"SIGSTOP {len(tree)} processes for {seconds:g} s, then SIGCONT"
        return _recovery(
            minute,
            "Postgres paused",
            lambda: done if self._ready() else None,
            "/ready not 200 after SIGCONT",
        )

    def resume_postgres(self) -> None:
        for process in reversed(self._stopped):
            _signal(process, signal.SIGCONT)
        self._stopped = []

    # --- memory ----------------------------------------------------------------------------

    def sample_memory(self) -> None:
        """Note the RSS of every process of the service now."""
        now = time.monotonic() - self.started
        roles: list[tuple[str, psutil.Process]] = []
        if self.process is not None:
            roles.append(("serve (supervisor)", psutil.Process(self.process.pid)))
        roles += [("uvicorn worker", psutil.Process(pid)) for pid in self.worker_pids()]
        if (valkey := self.valkey()) is not None:
            roles.append(("Valkey", valkey))
        roles += [("Postgres", process) for process in self.postgres_tree()]
        for role, process in roles:
            try:
                memory = process.memory_full_info()
                born = max(0.0, process.create_time() - self.started_epoch)
            except psutil.Error:
                continue
            tracked = self.tracked.get(process.pid)
            if tracked is None:
                tracked = self.tracked[process.pid] = Tracked(process.pid, role, born)
                if role == "Postgres":
                    tracked.title = _title(process)
            tracked.samples.append(Sample(now, memory.rss, memory.uss))


def _recovery(
    minute: int, fault: str, recovered: Callable[[], str | None], failure: str
) -> FaultResult:
    """Poll ``recovered`` (what it saw once the service is whole again, else None)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < RESTART_TIMEOUT_S:
        detail = recovered()
        if detail is not None:
            return FaultResult(minute, fault, detail, time.monotonic() - t0)
        time.sleep(0.1)
    return FaultResult(minute, fault, failure, None)


def _title(process: psutil.Process) -> str:
    """What a Postgres process says it is (``postgres: checkpointer`` → ``checkpointer``)."""
    try:
        title = " ".join(process.cmdline())
    except psutil.Error:
        return ""
    if not title.startswith("postgres: "):
        return "postmaster"
    rest = title.removeprefix("postgres: ").strip()
    # A client backend: "postgres: <user> <database> 127.0.0.1(40112) idle".
    return "client backend" if "(" in rest or "[local]" in rest else rest


def _signal(process: psutil.Process, sig: int) -> None:
    with contextlib.suppress(psutil.Error):
        process.send_signal(sig)


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
