"""The tail of Redis' append-only file lost (what appendfsync everysec allows on a crash).

The test's own Valkey takes three acknowledged submissions, stops, loses the last of its
append-only file's transactions (those submissions' index writes), and starts again:
its ready markers survive, so nothing looks missing. The index guard notices that the
server is another run (its run id) and rebuilds: the served ranks equal Postgres again.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from leaderboard.lib.features import Services
from leaderboard.lib.settings import Settings
from leaderboard.ops.embedded import EmbeddedValkey
from leaderboard.ranking.guard import IndexGuard
from tests.conftest import ADMIN, TEST_ADMIN_TOKEN, serving
from tests.scores_helpers import insert_players, postgres_ranking, ranked, submit, top

MULTI = b"*1\r\n$5\r\nMULTI\r\n"


def drop_last_transactions(valkey: EmbeddedValkey, count: int) -> int:
    """Cut the newest append-only file before its last ``count`` MULTI blocks.

    Scripts are written to the file as their effects, one MULTI … EXEC per call.
    Returns how many bytes were cut.
    """
    newest = max((valkey.dir / "appendonlydir").glob("*.incr.aof"), key=lambda p: p.stat().st_mtime)
    data = newest.read_bytes()
    cut = len(data)
    for _ in range(count):
        cut = data.rindex(MULTI, 0, cut)
    newest.write_bytes(data[:cut])
    return len(data) - cut


@pytest.fixture
async def service(
    own_valkey: EmbeddedValkey, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    settings = Settings(
        database_url=database_url,
        redis_url=own_valkey.url,
        admin_token=TEST_ADMIN_TOKEN,
        data_dir=tmp_path / "data",
        redis_timeout=0.5,
    )
    async with serving(settings, timeout=30) as served:
        yield served


async def test_lost_writes_at_the_end_of_the_aof_are_rebuilt(
    service: tuple[httpx.AsyncClient, Services], own_valkey: EmbeddedValkey, database_url: str
) -> None:
    http, services = service
    board_id = f"aof-{uuid.uuid4().hex[:8]}"
    body = {"id": board_id, "operator": "sum", "rate_limit": {"limit": 100, "window_seconds": 60}}
    assert (await http.post("/v1/leaderboards", json=body, headers=ADMIN)).status_code == 201
    players = [player for player, _ in await insert_players(database_url, 5)]
    for i, player in enumerate(players):
        await submit(http, board_id, player, 100 * (i + 1))
    for player in players[:3]:  # the three acknowledged +100s the crash will lose
        assert (await submit(http, board_id, player, 100))["changed"] is True
    expected = await postgres_ranking(database_url, board_id)

    own_valkey.stop()
    assert drop_last_transactions(own_valkey, 3) > 0
    own_valkey.start(same_port=True)

    async def served() -> list[tuple[str, int]]:
        return ranked((await top(http, board_id))["entries"])

    lost = await served()
    assert lost != expected, "the fault shows: three +100s are missing"
    report = await services.get(IndexGuard).run_once()
    assert board_id in report.rebuilt
    assert await served() == expected
