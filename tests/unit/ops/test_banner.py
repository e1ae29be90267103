"""What `serve`'s banner tells to try: the demo where this service listens."""

from __future__ import annotations

from leaderboard.lib.settings import Settings
from leaderboard.ops.serve import demo_command


def test_the_demo_command_names_the_url_only_off_the_defaults() -> None:
    assert demo_command(Settings()) == "uv run leaderboard demo"
    assert demo_command(Settings(port=9000)) == (
        "uv run leaderboard demo --url http://127.0.0.1:9000"
    )
    # Listening on every address: the demo reaches it on this machine.
    assert demo_command(Settings(host="0.0.0.0")) == (
        "uv run leaderboard demo --url http://127.0.0.1:8000"
    )
    assert demo_command(Settings(host="::1", port=8001)) == (
        "uv run leaderboard demo --url http://[::1]:8001"
    )
