"""A real PgBouncer in transaction mode, started by the tests in front of a test Postgres.

Debian's ``pgbouncer`` package (``apt-get install -y pgbouncer``). Tests that need it are
skipped when the binary is missing, unless ``LEADERBOARD_TEST_REQUIRE_PGBOUNCER=1``
(then they fail). ``LEADERBOARD_TEST_PGBOUNCER=1`` runs the integration suites through
one (tests/integration/conftest.py).

The pool is deliberately smaller than the clients' pools, so that consecutive
statements of one client really do run on different server connections.
"""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from leaderboard.ops.embedded.process import ChildServer, free_port, port_open

HOST = "127.0.0.1"
# PgBouncer refuses to run as root; then it runs as this user.
UNPRIVILEGED_USER = "nobody"


def pgbouncer_binary() -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which("pgbouncer", path=path)


def pgbouncer_required() -> bool:
    return os.environ.get("LEADERBOARD_TEST_REQUIRE_PGBOUNCER", "").strip() == "1"


def pgbouncer_or_skip() -> str:
    """The binary's path; skips the test when it is missing (fails when it is required)."""
    binary = pgbouncer_binary()
    if binary is None:
        message = "pgbouncer is not installed (apt-get install -y pgbouncer)"
        if pgbouncer_required():
            pytest.fail(f"{message}, and LEADERBOARD_TEST_REQUIRE_PGBOUNCER=1")
        pytest.skip(message)
    return binary


@dataclass(frozen=True)
class PgBouncer:
    port: int
    server_url: str

    def url(self, database: str | None = None) -> str:
        """The server URL's database (or ``database``), reached through PgBouncer."""
        parts = urlsplit(self.server_url)
        path = f"/{database}" if database is not None else parts.path
        return urlunsplit(parts._replace(netloc=f"postgres@{HOST}:{self.port}", path=path))


@contextmanager
def running_pgbouncer(server_url: str, *, pool_size: int = 6) -> Iterator[PgBouncer]:
    """PgBouncer (pool_mode=transaction) for every database of ``server_url``'s server."""
    binary = pgbouncer_or_skip()
    server = urlsplit(server_url)
    workdir = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    run_as: dict[str, int] = {}
    if os.geteuid() == 0:
        user = pwd.getpwnam(UNPRIVILEGED_USER)
        os.chown(workdir, user.pw_uid, user.pw_gid)
        run_as = {"user": user.pw_uid, "group": user.pw_gid}
    child = ChildServer("pgbouncer", signal.SIGTERM, workdir / "pgbouncer.log")
    try:
        for _ in range(3):  # a chosen port can be taken between choosing and binding
            port = free_port(HOST)
            config = workdir / "pgbouncer.ini"
            config.write_text(
                "[databases]\n"
                # Every database name, as the user the trust-auth test server knows.
                f"* = host={server.hostname} port={server.port or 5432} "
                f"user={server.username or 'postgres'}\n"
                "[pgbouncer]\n"
                f"listen_addr = {HOST}\n"
                f"listen_port = {port}\n"
                "unix_socket_dir =\n"
                "auth_type = any\n"
                "pool_mode = transaction\n"
                f"default_pool_size = {pool_size}\n"
                "max_client_conn = 2000\n"
                # Clients queue for a server connection; a leak shows up as a timeout.
                "query_wait_timeout = 30\n"
                "server_lifetime = 3600\n"
                "ignore_startup_parameters = extra_float_digits\n"
            )
            config.chmod(0o644)
            ready = functools.partial(port_open, HOST, port)
            if child.start_and_wait([binary, str(config)], ready, 10.0, **run_as):
                yield PgBouncer(port=port, server_url=server_url)
                return
        raise RuntimeError(f"pgbouncer found no free port; see {workdir / 'pgbouncer.log'}")
    finally:
        child.stop()
        shutil.rmtree(workdir, ignore_errors=True)
