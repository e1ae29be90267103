"""The convergence benchmark, small: its four divergences are found and repaired by the
next round while a child process submits (bench/convergence.py; the figures are the
benchmark's, docs/benchmarks.md)."""

from __future__ import annotations

import secrets
from pathlib import Path

from bench.convergence import run


async def test_the_benchmark_sees_every_divergence_repaired(
    tmp_path: Path, postgres_server_url: str, redis_server_url: str, redis_key_prefix: str
) -> None:
    result = await run(
        [
            "--size", "4000", "--rate", "20", "--interval", "2", "--rounds", "4",
            "--pg-url", postgres_server_url.rsplit("/", 1)[0],
            "--redis-url", redis_server_url,
            "--db", f"leaderboard_test_conv_{secrets.token_hex(4)}",
            "--prefix", f"{redis_key_prefix}conv:",
            "--results", str(tmp_path),
        ]
    )  # fmt: skip
    assert set(result["repaired_after_s"]) == {
        "wrong entry", "lost entry", "changed in Postgres", "deleted in Postgres"
    }  # fmt: skip
    # Injected during the third round's interval: the fourth round repairs them all.
    assert max(result["repaired_after_s"].values()) < 2 * 2 + 5
    assert [r["rebuilt"] for r in result["rounds"]] == [None] * 4
    assert (tmp_path / "convergence-4000.json").exists()
