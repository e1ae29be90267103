"""`leaderboard watch` as a user runs it: what it says, what it prints, what it refuses."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from leaderboard.events.models import RankChanged
from tests.conftest import ADMIN
from tests.procs import RunningService, running_service, service_env, watching

pytestmark = pytest.mark.slow


@pytest.fixture
def service(
    tmp_path: Path, database_url: str, redis_server_url: str, redis_key_prefix: str
) -> Iterator[tuple[RunningService, dict[str, str]]]:
    env = service_env(tmp_path, database_url, redis_server_url, redis_key_prefix)
    with running_service(tmp_path, env) as running:
        yield running, env


def new_board(http: httpx.Client) -> str:
    board = f"watch-{uuid.uuid4().hex[:8]}"
    response = http.post(
        "/v1/leaderboards",
        # rank_changed events only: these tests count them (no overtaken events).
        json={
            "id": board,
            "rate_limit": {"limit": 1000, "window_seconds": 60},
            "overtake_events": 0,
        },
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    return board


def new_player(http: httpx.Client) -> str:
    response = http.post("/v1/players", json={}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(response.json()["player_id"])


def submit(http: httpx.Client, board: str, player: str, score: int) -> None:
    response = http.post(
        f"/v1/leaderboards/{board}/scores",
        json={"score": score, "player_id": player},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text


def test_watch_says_on_stderr_that_it_listens_and_on_which_board(
    service: tuple[RunningService, dict[str, str]], tmp_path: Path
) -> None:
    running, env = service
    with httpx.Client(base_url=running.base, timeout=10) as http:
        board = new_board(http)
        player = new_player(http)
        with watching([board], env, tmp_path) as watcher:
            assert watcher.err is not None
            assert watcher.err.next() == (
                f"listening for rank changes on leaderboard {board!r} (since start; Ctrl-C stops)"
            )
            submit(http, board, player, 42)
            event = msgspec.json.decode(watcher.out.next(), type=RankChanged)
            assert (event.leaderboard, event.player_id, event.score) == (board, player, 42)


def test_watch_misses_nothing_submitted_in_its_first_seconds(
    service: tuple[RunningService, dict[str, str]], tmp_path: Path
) -> None:
    running, env = service
    with httpx.Client(base_url=running.base, timeout=10) as http:
        board = new_board(http)
        players = [new_player(http) for _ in range(3)]
        with watching([board], env, tmp_path) as watcher:
            # At once, without waiting for it to say it listens: these land while it is
            # still starting Python, connecting and subscribing.
            scores = list(range(10, 31))
            for i, score in enumerate(scores):
                submit(http, board, players[i % 3], score)
            printed = [msgspec.json.decode(watcher.out.next(), type=RankChanged) for _ in scores]
            assert [event.score for event in printed] == scores
            ids = [event.id for event in printed]
            assert len(set(ids)) == len(ids), "each event once"
            # And live ones after that still arrive.
            submit(http, board, players[0], 99)
            assert msgspec.json.decode(watcher.out.next(), type=RankChanged).score == 99


@pytest.mark.parametrize("board", ["nope", "Not-A-Valid-Id!"])
def test_watch_refuses_a_board_that_does_not_exist(
    service: tuple[RunningService, dict[str, str]], tmp_path: Path, board: str
) -> None:
    _, env = service
    result = subprocess.run(
        [sys.executable, "-m", "leaderboard", "watch", board],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result
    assert result.stderr.splitlines() == [f"error: no leaderboard {board!r}"]
    assert result.stdout == ""
    # The same words as `leaderboard rebuild` uses for it.
    rebuild = subprocess.run(
        [sys.executable, "-m", "leaderboard", "rebuild", board],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert rebuild.returncode == 2
    assert rebuild.stderr.splitlines()[-1] == f"error: no leaderboard {board!r}"


def test_watch_keeps_stdout_json_when_stderr_goes_there_too(
    service: tuple[RunningService, dict[str, str]], tmp_path: Path
) -> None:
    # `leaderboard watch b 2>&1 | jq`: the status line would break the JSON lines.
    running, env = service
    with httpx.Client(base_url=running.base, timeout=10) as http:
        board = new_board(http)
        player = new_player(http)
        with watching([board], env, tmp_path, merge_stderr=True) as watcher:
            submit(http, board, player, 5)
            event = msgspec.json.decode(watcher.out.next(), type=RankChanged)
            assert event.score == 5
