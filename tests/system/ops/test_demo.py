"""`leaderboard demo` as the README offers it: its defaults, against a running `serve`."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port, wait_until
from tests.procs import clean_env, running_service, service_env, start_cli

pytestmark = pytest.mark.slow


def counter(metrics: str, outcome: str) -> float:
    """``leaderboard_submissions_total{outcome=…}`` from a /metrics page (0 when absent)."""
    pattern = rf'^leaderboard_submissions_total\{{outcome="{outcome}"\}} (\S+)$'
    match = re.search(pattern, metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_the_readme_demo_fills_300_players_and_keeps_scoring(tmp_path: Path) -> None:
    # As the README says: `leaderboard serve` (embedded servers, data in ./.leaderboard,
    # generated admin token), then `leaderboard demo` in the same directory. Only the
    # port is chosen (8000 may be in use here) and the demo ends after --duration; the
    # sign-in limit stays at its default, which the demo once ran into at ~10 %.
    port = free_port()
    env = clean_env(LEADERBOARD_PORT=str(port))
    base = f"http://127.0.0.1:{port}"
    serve = start_cli(["serve"], env, tmp_path)
    try:
        wait_until(lambda: ready(base) or serve.poll() is not None, 60, "serve to be ready")
        assert serve.poll() is None, serve.communicate()[0]
        demo = start_cli(["demo", "--duration", "6"], env, tmp_path)
        try:
            wait_until(lambda: total(base) == 300 or demo.poll() is not None, 60, "300 players")
            assert demo.poll() is None, demo.communicate()[0]
            filled = counter(httpx.get(f"{base}/metrics").text, "accepted")
            assert filled >= 300
            # After the fill, scores keep coming while the demo runs.
            wait_until(
                lambda: counter(httpx.get(f"{base}/metrics").text, "accepted") >= filled + 5,
                10,
                "scores after the fill",
            )
            output, _ = demo.communicate(timeout=60)
        finally:
            if demo.poll() is None:
                demo.kill()
                demo.communicate()
        assert demo.returncode == 0, output
        submitted = int(output.strip().splitlines()[-1].split()[1])
        assert submitted > 300
        assert total(base) == 300, "the trickle scores the same 300 players"
        # Each worker writes its figures within a second of counting them.
        wait_until(
            lambda: counter(httpx.get(f"{base}/metrics").text, "accepted") == submitted,
            10,
            f"{submitted} accepted submissions counted",
        )
        metrics = httpx.get(f"{base}/metrics").text
        for outcome in ("throttled", "rejected", "failed"):
            assert counter(metrics, outcome) == 0, outcome
        top = httpx.get(f"{base}/v1/leaderboards/demo/top?limit=10").json()
        assert [entry["rank"] for entry in top["entries"]] == list(range(1, 11))
        assert all(entry["display_name"] for entry in top["entries"])

        # Run again: the board keeps its 300 players (reused, none added), and says so.
        again = start_cli(["demo", "--duration", "0"], env, tmp_path)
        output, _ = again.communicate(timeout=60)
        assert again.returncode == 0, output
        assert total(base) == 300
        assert "reusing 300 players" in output
        assert "creating" not in output
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=60)


def ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def total(base: str) -> int:
    response = httpx.get(f"{base}/v1/leaderboards/demo/top?limit=1", timeout=5)
    return int(response.json()["total"]) if response.status_code == 200 else 0


def run_demo(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    process = start_cli(["demo", *args], env, cwd)
    output, _ = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, output)


def test_a_service_that_is_not_there_is_cannot_reach(tmp_path: Path) -> None:
    env = clean_env(LEADERBOARD_ADMIN_TOKEN="demo-admin-token-0123456789")
    url = f"http://127.0.0.1:{free_port()}"
    result = run_demo(["--url", url], env, tmp_path)
    assert result.returncode == 2, result.stdout
    assert f"error: cannot reach the service at {url}" in result.stdout
    assert "Traceback" not in result.stdout


def test_an_answer_from_the_service_is_not_cannot_reach(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str
) -> None:
    env = service_env(tmp_path, database_url, redis_server_url, redis_key_prefix)
    with running_service(tmp_path, env) as service:
        wrong = clean_env(LEADERBOARD_ADMIN_TOKEN="not-the-admin-token-0123")
        result = run_demo(["--url", service.base, "--board", "demo-wrong-token"], wrong, tmp_path)
    assert result.returncode == 2, result.stdout
    assert "cannot reach" not in result.stdout
    assert (
        f"error: the service at {service.base} answered POST /v1/leaderboards with 401: "
        "unknown or expired token"
    ) in result.stdout
    assert "admin token" in result.stdout


def test_the_demo_without_a_token_says_where_it_looks(tmp_path: Path) -> None:
    result = run_demo([], clean_env(), tmp_path)
    assert result.returncode == 2
    assert result.stdout.strip().splitlines() == [
        "error: no admin token: set LEADERBOARD_ADMIN_TOKEN, or run the demo in the directory "
        "where `leaderboard serve` runs (it keeps the token in .leaderboard/admin_token)"
    ]


def test_the_readme_league_demo_fills_two_tiers_and_keeps_scoring(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str
) -> None:
    """`leaderboard demo --league` as the README offers it (ending after --duration)."""
    env = service_env(tmp_path, database_url, redis_server_url, redis_key_prefix)
    with running_service(tmp_path, env) as service:
        demo_env = {**env, "LEADERBOARD_PORT": service.base.rsplit(":", 1)[1]}
        result = run_demo(["--league", "--duration", "2"], demo_env, tmp_path)
        assert result.returncode == 0, result.stdout
        assert "league 'demo-league': 300 players" in result.stdout
        submitted = int(result.stdout.strip().splitlines()[-1].split()[1])
        assert submitted > 600  # first points in season 1 and in season 2, then more
        league = httpx.get(f"{service.base}/v1/leagues/demo-league", timeout=5).json()
        assert league["season"] == 2
        assert [tier["name"] for tier in league["tiers"]] == ["Bronze", "Silver", "Gold"]
        # Season 1's best five of each of ten Bronze cohorts play in Silver now.
        silver = [
            httpx.get(f"{service.base}/v1/leagues/demo-league/cohorts/2-2-{n}", timeout=5)
            for n in (1, 2, 3)
        ]
        assert [len(page.json()["entries"]) for page in silver[:2]] == [30, 20]
        assert silver[2].status_code == 404
        zones = [entry["zone"] for entry in silver[0].json()["entries"]]
        assert zones.count("promote") == 5
        assert zones.count("demote") == 5
        page = httpx.get(f"{service.base}/leagues/demo-league", timeout=5)
        assert page.status_code == 200

        again = run_demo(["--league=demo-league", "--duration", "0"], demo_env, tmp_path)
        assert again.returncode == 0, again.stdout
        assert "reusing 300 players" in again.stdout
        league = httpx.get(f"{service.base}/v1/leagues/demo-league", timeout=5).json()
        assert league["season"] == 2  # an existing league's season is left to its schedule
