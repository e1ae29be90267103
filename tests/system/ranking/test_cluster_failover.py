"""A master of a Redis Cluster dies under load and its replica takes over; then it fails back.

Three masters with a replica each (tests/cluster.py), ``cluster-node-timeout`` 1 s. The
service runs over them (``redis_cluster=True``) and takes 3,000 concurrent submissions;
a third of the way in, the master that holds the board (and that the service's URL
names) is killed with SIGKILL. Its replica had fallen behind first: its replication link
was cut, and it could not authenticate again (a wrong ``masterauth``), so it misses
every write from then on, as an asynchronously replicated replica misses its master's
last writes when the master dies. Then:

- every acknowledged (200) submission is in Postgres, with a score at least as good, and
  the other answers were 503s;
- the index guard notices that the index's server is another one (the ready marker
  still holds the dead master's run id) and rebuilds it: the ranks served equal
  Postgres' within 60 s of the kill;
- ``/ready`` is 200 again, and a subscriber that held its subscription through the
  failover gets the events of submissions made after it, with nobody restarting anything.

Then the dead master comes back as the new one's replica and takes its slots back by a
manual failover, which leaves the service's slot map stale (MOVED) and ends the sharded
subscription on the old node: every submission still gets 200, ranks converge, events flow.
Typically 20 s of wall time; the 90 s cap leaves the 60 s convergence bound room to fail
with its own message.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest

from leaderboard.events.hub import EventHub
from leaderboard.events.models import RankChanged
from leaderboard.events.subscription import Subscription
from leaderboard.lib.features import Services
from leaderboard.lib.metrics import INDEX_REPAIRS
from leaderboard.lib.settings import Settings
from tests.cluster import LocalCluster, Node, running_cluster
from tests.conftest import (
    ADMIN,
    CLUSTER_OFF_REASON,
    TEST_ADMIN_TOKEN,
    cluster_tests_enabled,
    serving,
)
from tests.helpers import async_wait_until
from tests.scores_helpers import (
    create_board,
    insert_players,
    new_board_id,
    postgres_ranking,
    ranked,
    top,
)

pytestmark = pytest.mark.timeout(90)

SUBMISSIONS = 3000
CONCURRENCY = 64
PLAYERS = 300
KILL_AFTER = SUBMISSIONS // 3  # acknowledged submissions before the master dies
TOP_SCORE = 1_000_000  # submissions score below it; the ones whose events we await, above
CONVERGENCE_SECONDS = 60


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    if not cluster_tests_enabled():
        pytest.skip(CLUSTER_OFF_REASON)
    with running_cluster(tmp_path / "cluster", replicas=1, node_timeout_ms=1000) as cluster:
        yield cluster


@pytest.fixture
async def service(
    cluster: LocalCluster, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Services, Settings]]:
    settings = Settings(
        database_url=database_url,
        redis_url=cluster.url,
        redis_cluster=True,
        redis_key_prefix=f"failover:{uuid.uuid4().hex[:8]}:",
        admin_token=TEST_ADMIN_TOKEN,
        data_dir=tmp_path / "data",
        index_check_seconds=1,
    )
    async with serving(settings, timeout=30) as (http, services):
        yield http, services, settings


@dataclass
class Load:
    """What the submitters were told: every 200 and every status."""

    acknowledged: list[tuple[str, int]] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    submitted: dict[str, set[int]] = field(default_factory=dict)
    enough: asyncio.Event = field(default_factory=asyncio.Event)


async def submit_all(
    http: httpx.AsyncClient,
    board_id: str,
    players: list[str],
    load: Load,
    count: int = SUBMISSIONS,
) -> None:
    """``count`` submissions, CONCURRENCY at a time, as game servers would send them."""
    rng = random.Random(count)
    work = [(rng.choice(players), rng.randrange(TOP_SCORE)) for _ in range(count)]
    queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)

    async def submitter() -> None:
        while not queue.empty():
            player, score = queue.get_nowait()
            load.submitted.setdefault(player, set()).add(score)
            try:
                response = await http.post(
                    f"/v1/leaderboards/{board_id}/scores",
                    json={"score": score, "player_id": player},
                    headers=ADMIN,
                )
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            load.statuses[status] = load.statuses.get(status, 0) + 1
            if status == 200:
                load.acknowledged.append((player, score))
                if len(load.acknowledged) >= KILL_AFTER:
                    load.enough.set()

    await asyncio.gather(*(submitter() for _ in range(CONCURRENCY)))


async def best_scores(database_url: str, board_id: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT player_id::text, score FROM scores WHERE leaderboard_id = $1", board_id
        )
    finally:
        await conn.close()
    return {row[0]: row[1] for row in rows}


async def event_of(subscription: Subscription, player: str, score: int, timeout: float) -> bool:
    """Whether the subscription gets ``player``'s rank_changed to ``score`` in time."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        message = await subscription.next(timeout=left)
        if message is None:
            continue
        event = msgspec.json.decode(message)
        if event.get("player_id") == player and event.get("score") == score:
            msgspec.json.decode(message, type=RankChanged)  # and it is a whole event
            return True
    return False


async def test_a_master_killed_under_load_fails_over_without_losing_anything(
    cluster: LocalCluster,
    service: tuple[httpx.AsyncClient, Services, Settings],
    database_url: str,
) -> None:
    http, services, _ = service
    # The board lives on the master the service's URL names: the worst one to lose.
    victim = cluster.masters[0]
    heir = cluster.replica_of(victim)
    board_id = new_board_id()
    while cluster.master_of_key(f"{{{board_id}}}") is not victim:
        board_id = new_board_id()
    await create_board(http, id=board_id)
    players = [player for player, _ in await insert_players(database_url, PLAYERS)]
    rebuilds_before = INDEX_REPAIRS.labels("restart")._value.get()

    topic = services.get(EventHub).board(board_id)
    with services.get(EventHub).subscribe(topic) as subscription:
        assert await services.get(EventHub).wait_connected(topic)
        load = Load()
        submitting = asyncio.create_task(submit_all(http, board_id, players, load))
        await asyncio.wait_for(load.enough.wait(), 60)
        # The replica falls behind: its link breaks and it cannot authenticate again.
        cut_at = cut_replication(victim, heir)
        await async_wait_until(
            lambda: wrote_since(victim, cut_at), 10, "writes the replica never gets"
        )
        acknowledged_before_kill = len(load.acknowledged)
        cluster.kill(victim)
        killed_at = time.monotonic()
        await asyncio.wait_for(submitting, 60)

        # The failover happened, and submissions went on through it.
        assert heir.info("replication")["role"] == "master"
        assert len(load.acknowledged) > acknowledged_before_kill, load.statuses
        assert set(load.statuses) <= {200, 503}, load.statuses
        await assert_nothing_acknowledged_lost(database_url, board_id, load)

        # The guard notices the index's server is another one and rebuilds it. The
        # served ranks may equal Postgres' a moment before the guard counts its rebuild
        # (the swap is seen first), or before it (later submissions overwrote every
        # entry the heir missed): wait for both, within the same bound.
        async def rebuilt_for_restart() -> bool:
            return bool(INDEX_REPAIRS.labels("restart")._value.get() > rebuilds_before)

        left = CONVERGENCE_SECONDS - (time.monotonic() - killed_at)
        await async_wait_until(rebuilt_for_restart, left, "the guard to rebuild the index")
        left = CONVERGENCE_SECONDS - (time.monotonic() - killed_at)
        await assert_ranks_converge(http, database_url, board_id, left)
        await async_wait_until(lambda: is_ready(http), 30, "/ready to answer 200")
        # The subscriber that held on gets the events of submissions made after.
        await submit_and_see_the_event(http, board_id, players[0], subscription, load)

        # The dead master comes back, as the new one's replica, and takes its slots back
        # by a manual failover: the service's slot map is stale, and the heir answers MOVED.
        cluster.restart(victim)
        await async_wait_until(lambda: follows(victim, heir), 30, "the old master to sync")
        await take_over(cluster, victim)
        late = Load(submitted=load.submitted)
        await submit_all(http, board_id, players, late, count=300)
        assert late.statuses == {200: 300}
        await assert_nothing_acknowledged_lost(database_url, board_id, late)
        await assert_ranks_converge(http, database_url, board_id, CONVERGENCE_SECONDS)
        await submit_and_see_the_event(http, board_id, players[1], subscription, load)


async def assert_nothing_acknowledged_lost(database_url: str, board_id: str, load: Load) -> None:
    """Every 200 is in Postgres with a score at least as good, and nothing else is."""
    stored = await best_scores(database_url, board_id)
    for player, score in load.acknowledged:
        assert stored.get(player, -1) >= score, (player, score, stored.get(player))
    for player, score in stored.items():
        assert score in load.submitted[player], (player, score)


async def assert_ranks_converge(
    http: httpx.AsyncClient, database_url: str, board_id: str, timeout: float
) -> None:
    expected = await postgres_ranking(database_url, board_id)

    async def converged() -> bool:
        return ranked((await top(http, board_id))["entries"]) == expected

    await async_wait_until(converged, timeout, "the served ranks to equal Postgres'")


async def is_ready(http: httpx.AsyncClient) -> bool:
    return (await http.get("/ready")).status_code == 200


async def submit_and_see_the_event(
    http: httpx.AsyncClient, board_id: str, player: str, subscription: Subscription, load: Load
) -> None:
    """A score above all others for ``player``; the subscription gets its rank_changed."""
    score = TOP_SCORE + sum(len(scores) for scores in load.submitted.values())
    load.submitted.setdefault(player, set()).add(score)
    response = await http.post(
        f"/v1/leaderboards/{board_id}/scores",
        json={"score": score, "player_id": player},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    assert await event_of(subscription, player, score, 15), "no event after the failover"


async def follows(replica: Node, master: Node) -> bool:
    """Whether ``replica`` replicates ``master`` and is in sync with it."""
    info = replica.info("replication")
    return (
        info.get("role") == "slave"
        and int(str(info.get("master_port", 0))) == master.port
        and info.get("master_link_status") == "up"
    )


async def leads(cluster: LocalCluster, node: Node) -> bool:
    return node.info("replication").get("role") == "master" and cluster.state_ok()


async def take_over(cluster: LocalCluster, replica: Node, timeout: float = 30) -> None:
    """A failover by hand (CLUSTER FAILOVER), asked again until the replica leads.

    Redis drops a manual failover that has not completed in 5 s (its master must catch
    the replica up and a majority must vote), which a loaded machine sometimes sees.
    """
    deadline = time.monotonic() + timeout
    asked = -math.inf
    while not await leads(cluster, replica):
        assert time.monotonic() < deadline, "the old master did not take its slots back"
        if time.monotonic() - asked > 8:
            replica.command("CLUSTER", "FAILOVER")
            asked = time.monotonic()
        await asyncio.sleep(0.05)


def cut_replication(master: Node, replica: Node) -> int:
    """Break the replica's link for good; the master's replication offset at that moment."""
    replica.command("CONFIG", "SET", "masteruser", "nobody")
    replica.command("CONFIG", "SET", "masterauth", "wrong-password")
    offset = int(str(master.info("replication")["master_repl_offset"]))
    master.command("CLIENT", "KILL", "TYPE", "replica")
    return offset


async def wrote_since(master: Node, offset: int) -> bool:
    """Whether the master took writes since ``offset`` (with no replica to take them)."""
    info = master.info("replication")
    return int(str(info["connected_slaves"])) == 0 and int(str(info["master_repl_offset"])) > offset
