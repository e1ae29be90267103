"""Signed-in players: devices signed in through the API before the loads, and their boards.

Devices ``bench-device-000000`` … sign in with ``POST /v1/auth/device`` (the first call
makes each player and opens a session; wrk sends each once, bench/lua/once.lua, and hands
the answers back); the loads then submit as these players with their own tokens, as game
clients do. The first ``players`` of them are on two boards made through the API (rate
limit 10,000 per player per second), each seeded with one random score per player
(1 … 1,000,000, sent with the player's token):

- ``bench-players`` takes random scores from 1 to 1,000,000, so most submissions leave a
  player's best as it was (the more a player has submitted, the likelier);
- ``bench-rising`` takes scores above every stored one, so every submission changes it.

All of them (the hot board's players too) are kept in files for wrk: tokens, devices,
player ids (bench/results/run/).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.common import write_lines
from bench.runner import Wrk
from bench.wrk import WrkResult

RANDOM_BOARD = "bench-players"
RISING_BOARD = "bench-rising"
MAX_SCORE = 1_000_000  # random scores are 1 … MAX_SCORE
RISING_BASE = 2_000_000_000  # rising scores start above every random one


def device_id(i: int) -> str:
    return f"bench-device-{i:06d}"


def board_body(board_id: str, **extra: Any) -> dict[str, Any]:
    """A board that never resets and lets each player submit 10,000 times a second."""
    return {
        "id": board_id,
        "reset": "never",
        "rate_limit": {"limit": 10_000, "window_seconds": 1},
        **extra,
    }


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Devices signed in before the loads: their players and session tokens, in order."""

    devices: list[str]
    player_ids: list[str]
    tokens: list[str]
    seconds: float  # how long signing them in took
    players: int  # how many of them (the first) submit to the two boards

    @property
    def tokens_file(self) -> str:
        """The tokens of the boards' players (the first ``players``)."""
        return write_lines("player-tokens.txt", self.tokens[: self.players])

    @property
    def devices_file(self) -> str:
        """Every device: each one signed in before, so each is known."""
        return write_lines("player-devices.txt", self.devices)


class RisingScores:
    """Score bases for rising submissions: each run's scores above every earlier run's."""

    def __init__(self, start: int = RISING_BASE, step: int = 100_000_000) -> None:
        self._next, self._step = start, step

    def next(self) -> int:
        base, self._next = self._next, self._next + self._step
        return base


BURST_CONNECTIONS = 64
BURST_CAP_S = 300.0  # wrk's -d for a burst: it ends at its last answer, long before


def burst(wrk: Wrk, name: str, base: str, path: str, lines: list[str], *, show: bool) -> WrkResult:
    """POST each of ``lines`` ("<token or -> <JSON body>") to ``path`` once (once.lua)."""
    env = {"BENCH_BODIES": write_lines(f"{name}.txt", lines), "BENCH_PATH": path}
    if show:
        env["BENCH_PRINT"] = "1"
    r = wrk(name, base, "once.lua", env, connections=BURST_CONNECTIONS, duration=BURST_CAP_S)
    if r.requests < len(lines) or r.errors:
        raise SystemExit(f"error: {name}: {r.errors} errors in {r.requests} of {len(lines)}")
    return r


def sign_in(wrk: Wrk, base: str, devices: int, players: int) -> SignedIn:
    """Sign ``devices`` devices in (each makes its player); the first ``players`` play.

    The answers come in any order: a device's player and token stay together (one answer),
    and the players are numbered in the order the answers came.
    """
    names = [device_id(i) for i in range(devices)]
    lines = [
        "- " + json.dumps({"device_id": d, "display_name": f"Player {i}"})
        for i, d in enumerate(names)
    ]
    t0 = time.monotonic()
    r = burst(wrk, "sign in devices", base, "/v1/auth/device", lines, show=True)
    took = time.monotonic() - t0
    answers = [json.loads(b) for b in r.bodies]
    if len(answers) != devices or not all(a.get("created") for a in answers):
        raise SystemExit(f"error: {len(answers)} of {devices} devices signed in as new players")
    return SignedIn(
        names,
        [str(a["player_id"]) for a in answers],
        [str(a["token"]) for a in answers],
        took,
        min(players, devices),
    )


def make_boards(wrk: Wrk, base: str, admin_token: str, signed: SignedIn, seed: int = 25) -> None:
    """Create the two boards and give each player one random score on each."""
    admin = {"Authorization": f"Bearer {admin_token}"}
    rng = random.Random(seed)
    for board in (RANDOM_BOARD, RISING_BOARD):
        httpx.post(
            f"{base}/v1/leaderboards", json=board_body(board), headers=admin, timeout=30
        ).raise_for_status()
        lines = [
            f'{token} {{"score":{rng.randint(1, MAX_SCORE)}}}'
            for token in signed.tokens[: signed.players]
        ]
        burst(wrk, f"seed {board}", base, f"/v1/leaderboards/{board}/scores", lines, show=False)
