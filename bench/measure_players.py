"""The signed-in players' loads at full load (docs/benchmarks.md, Signed-in players).

wrk with the run's connections (64): submissions as random signed-in players with random
scores (most leave the best as it was) and with rising scores (each changes it), each
request with the player's own session token (bench/lua/player_submit.lua); and sign-ins
of known devices (bench/lua/signin.lua).
"""

from __future__ import annotations

from bench.players import MAX_SCORE, RANDOM_BOARD, RISING_BOARD, RisingScores, SignedIn
from bench.records_players import PlayerLoads
from bench.runner import Wrk


def submit_env(signed: SignedIn, scores: str, rising: RisingScores | None = None) -> dict[str, str]:
    """wrk's environment for player_submit.lua: ``scores`` is "random" or "rising"."""
    board = RISING_BOARD if scores == "rising" else RANDOM_BOARD
    env = {
        "BENCH_TOKENS": signed.tokens_file,
        "BENCH_BOARD": board,
        "BENCH_SCORES": scores,
        "BENCH_MAX_SCORE": str(MAX_SCORE),
    }
    if scores == "rising":
        assert rising is not None
        env["BENCH_SCORE_BASE"] = str(rising.next())
    return env


def measure(wrk: Wrk, base: str, signed: SignedIn, rising: RisingScores) -> PlayerLoads:
    submit_random = wrk(
        "submit as a player, random score", base, "player_submit.lua", submit_env(signed, "random")
    )
    submit_rising = wrk(
        "submit as a player, rising score",
        base,
        "player_submit.lua",
        submit_env(signed, "rising", rising),
    )
    signin = wrk(
        "sign in a known device", base, "signin.lua", {"BENCH_DEVICES": signed.devices_file}
    )
    return {
        "devices": len(signed.devices),
        "players": signed.players,
        "sign_in_s": signed.seconds,
        "board": RANDOM_BOARD,
        "rising_board": RISING_BOARD,
        "max_score": MAX_SCORE,
        "submit_random": submit_random.as_dict(),
        "submit_rising": submit_rising.as_dict(),
        "signin": signin.as_dict(),
    }
