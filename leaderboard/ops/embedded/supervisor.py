"""Restart an embedded server that dies while ``leaderboard serve`` runs.

A crashed, OOM-killed or ``kill -9``-ed embedded Postgres or Valkey would otherwise leave
the service answering 503 until someone restarts ``serve``. The supervisor watches them
from a thread of the ``serve`` process (uvicorn owns the main thread) and starts a dead
one again on the same port, so the URLs the app holds stay right: its pool and client
reconnect by themselves on their next call.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from leaderboard.ops.embedded.process import EmbeddedServerError

logger = logging.getLogger(__name__)

CHECK_INTERVAL_SECONDS = 0.25
# Waits between failed restarts: a Postgres killed with -9 may leave backends that hold
# its shared memory for a moment, and its restart is refused until they are gone.
RETRY_DELAYS_SECONDS = (0.5, 1.0, 2.0, 4.0)
RESTART_TIMEOUT_SECONDS = 30.0


class Supervised(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def port(self) -> int | None: ...

    @property
    def pid(self) -> int | None: ...

    def died(self) -> str | None: ...

    def start(self, timeout: float = ..., *, same_port: bool = False) -> None: ...


class Supervisor:
    """Watches servers and restarts each one that dies, until :meth:`stop`."""

    def __init__(self, servers: list[Supervised]) -> None:
        self._servers = servers
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="embedded-supervisor", daemon=True)
        self.restarts = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; returns once no restart is under way (the servers may stop now)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def __enter__(self) -> Supervisor:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _run(self) -> None:
        # This thread must outlive the servers it restarts: their parent-death signal
        # (process.py) fires when the *thread* that started them ends. So it ends only in
        # stop(), never on an error, which it logs and goes on.
        while not self._stopping.wait(CHECK_INTERVAL_SECONDS):
            for server in self._servers:
                try:
                    how = server.died()
                    if how is not None and not self._stopping.is_set():
                        self._restart(server, how)
                except Exception:
                    logger.exception("supervising %s failed; still watching", server.name)

    def _restart(self, server: Supervised, how: str) -> None:
        logger.warning(
            "%s (pid %s) %s; restarting it on port %s",
            server.name,
            server.pid,
            how,
            server.port,
        )
        began = time.monotonic()
        attempt = 0
        while not self._stopping.is_set():
            try:
                server.start(RESTART_TIMEOUT_SECONDS, same_port=True)
            except EmbeddedServerError as exc:
                delay = RETRY_DELAYS_SECONDS[min(attempt, len(RETRY_DELAYS_SECONDS) - 1)]
                attempt += 1
                lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
                # The first line says what failed; the last, from the server's log, why.
                reason = " … ".join(dict.fromkeys([lines[0], lines[-1]])) if lines else ""
                logger.warning(
                    "%s did not restart (attempt %d): %s; trying again in %g s",
                    server.name,
                    attempt,
                    reason,
                    delay,
                )
                self._stopping.wait(delay)
                continue
            self.restarts += 1
            logger.warning(
                "%s restarted (pid %s, port %s) %.1f s after it went",
                server.name,
                server.pid,
                server.port,
                time.monotonic() - began,
            )
            return
