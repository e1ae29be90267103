"""Process helpers for tests that start `leaderboard serve` or embedded servers."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import IO, Any

import psutil
import pytest


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any LEADERBOARD_* variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERBOARD_")}
    env.update(extra)
    return env


def start_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "leaderboard", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def gone(process: psutil.Process) -> bool:
    """True when the process has exited (a zombie waiting to be reaped counts as exited)."""
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def processes_using(path: Path) -> list[psutil.Process]:
    """Live processes whose command line mentions ``path`` (servers left behind)."""
    needle = str(path.resolve())
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if needle in cmdline and not gone(process):
            found.append(process)
    return found


def service_env(
    tmp_path: Path, database_url: str, redis_url: str, prefix: str, **extra: str
) -> dict[str, str]:
    """The environment of a `leaderboard serve` over the test session's servers; the service
    lives on an ordinary day (tests/calendar.py) unless ``LEADERBOARD_CLOCK_START`` says."""
    from tests.calendar import ORDINARY_DAY, noon
    from tests.conftest import TEST_ADMIN_TOKEN

    extra.setdefault("LEADERBOARD_CLOCK_START", noon(ORDINARY_DAY).isoformat())
    return clean_env(
        LEADERBOARD_DATABASE_URL=database_url,
        LEADERBOARD_REDIS_URL=redis_url,
        LEADERBOARD_REDIS_KEY_PREFIX=prefix,
        LEADERBOARD_ADMIN_TOKEN=TEST_ADMIN_TOKEN,
        LEADERBOARD_DATA_DIR=str(tmp_path / "data"),
        LEADERBOARD_AUTH_RATE_LIMIT="10000",
        **extra,
    )


class RunningService:
    def __init__(self, base: str, process: subprocess.Popen[str]) -> None:
        self.base = base
        self.ws_base = base.replace("http://", "ws://")
        self.process = process
        self.output = ""


@contextmanager
def running_service(
    tmp_path: Path, env: dict[str, str], args: tuple[str, ...] = (), port: int | None = None
) -> Iterator[RunningService]:
    """`leaderboard serve` (with ``args``) on ``port`` (a free one by default), ready;
    stopped with SIGTERM after. A restart is a second one on the first one's port."""
    import httpx

    from tests.helpers import free_port, wait_until

    port = port or free_port()
    process = start_cli(["serve", "--port", str(port), *args], env, tmp_path)
    service = RunningService(f"http://127.0.0.1:{port}", process)

    def ready() -> bool:
        try:
            return httpx.get(f"{service.base}/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(lambda: ready() or process.poll() is not None, 30, "the service")
        assert process.poll() is None, process.communicate()[0]
        yield service
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            service.output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()  # and read what it said, so the failure shows where it hung
            output, _ = process.communicate()
            raise AssertionError(f"the service did not stop on SIGTERM:\n{output}") from None


def server_fixture(label: str, day: date | None = None) -> Any:
    """A ``server`` fixture: one `leaderboard serve` for a module's tests (each makes its
    own boards), as ``server = server_fixture("live-page")`` at a module's top. The service
    lives on ``day`` (noon when it starts; tests/calendar.py), an ordinary day by default."""
    from tests.calendar import ORDINARY_DAY, noon

    clock_start = noon(day or ORDINARY_DAY).isoformat()  # the browser's too: open_board

    @pytest.fixture(scope="module")
    def server(
        tmp_path_factory: pytest.TempPathFactory,
        database_url: str,
        redis_server_url: str,
        redis_key_prefix: str,
    ) -> Iterator[str]:
        with _module_service(
            tmp_path_factory,
            label,
            database_url,
            redis_server_url,
            redis_key_prefix,
            LEADERBOARD_CLOCK_START=clock_start,
        ) as service:
            yield service.base

    return server


def service_fixture(label: str) -> Any:
    """As :func:`server_fixture`, a ``service`` fixture that yields the RunningService
    (its process too, for tests that watch it)."""

    @pytest.fixture(scope="module")
    def service(
        tmp_path_factory: pytest.TempPathFactory,
        database_url: str,
        redis_server_url: str,
        redis_key_prefix: str,
    ) -> Iterator[RunningService]:
        with _module_service(
            tmp_path_factory, label, database_url, redis_server_url, redis_key_prefix
        ) as running:
            yield running

    return service


@contextmanager
def _module_service(
    tmp_path_factory: pytest.TempPathFactory,
    label: str,
    database_url: str,
    redis_url: str,
    prefix: str,
    **extra: str,
) -> Iterator[RunningService]:
    tmp_path = tmp_path_factory.mktemp(label)
    env = service_env(tmp_path, database_url, redis_url, prefix, **extra)
    with running_service(tmp_path, env) as service:
        yield service


class Lines:
    """A stream's lines, read by a thread so that a test can wait for one with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line.rstrip("\n"))

    def next(self, timeout: float = 15) -> str:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line within {timeout:g} s") from None

    def join(self) -> None:
        self._thread.join(timeout=15)


class Watcher:
    """A running `leaderboard watch`; its stdout and (unless merged into it) stderr lines."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.process = process
        self.out = Lines(process.stdout)
        self.err = Lines(process.stderr) if process.stderr is not None else None


@contextmanager
def watching(
    args: list[str], env: dict[str, str], cwd: Path, *, merge_stderr: bool = False
) -> Iterator[Watcher]:
    process = subprocess.Popen(
        [sys.executable, "-m", "leaderboard", "watch", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
    )
    watcher = Watcher(process)
    try:
        yield watcher
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # Ctrl-C: how a user ends it
        process.wait(timeout=15)
        for lines, stream in ((watcher.out, process.stdout), (watcher.err, process.stderr)):
            if lines is not None:
                lines.join()  # EOF once the process is gone
            if stream is not None:
                stream.close()
    assert process.returncode == 0
