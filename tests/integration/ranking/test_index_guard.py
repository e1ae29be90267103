"""The index guard: whatever Redis loses or gets wrong converges back to Postgres by itself.

Each fault is caused for real against the running app's Redis (a key deleted, a score
moved with ZINCRBY, an entry Postgres never had, a marker from another server); then one
round of the guard runs (the app runs one every LEADERBOARD_INDEX_CHECK_SECONDS; here the
test runs it, so nothing waits on a timer) and the served ranks must equal Postgres'.
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from redis.asyncio import Redis

from leaderboard.boards.service import BoardService
from leaderboard.lib.keys import IndexKeys, Keys
from leaderboard.lib.settings import Settings
from leaderboard.ranking.guard import IndexGuard
from leaderboard.ranking.index import RankIndex
from leaderboard.ranking.values import member_for
from tests.conftest import ADMIN
from tests.integration.ranking.conftest import Live
from tests.scores_helpers import create_board, insert_players, postgres_ranking, ranked, submit, top

pytestmark = pytest.mark.redis_modes


@pytest.fixture
def live(guarded_app: Live) -> Live:
    return guarded_app


async def board_of(live: Live, database_url: str, count: int) -> tuple[str, list[str]]:
    """A board of ``count`` players scoring 10, 20, … through the API."""
    board_id = await create_board(live.http)
    players = [player for player, _ in await insert_players(database_url, count)]
    for i, player in enumerate(players):
        await submit(live.http, board_id, player, 10 * (i + 1))
    return board_id, players


async def served(live: Live, board_id: str) -> list[tuple[str, int]]:
    page = await top(live.http, board_id)
    assert page["total"] == len(page["entries"])
    return ranked(page["entries"])


def index_keys(settings: Settings, board_id: str) -> IndexKeys:
    return Keys(settings.redis_key_prefix).index(board_id, "all")


async def settle(database_url: str, board_id: str) -> None:
    """Make the board's rows look older than the guard's settling time (5 s)."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE scores SET updated_at = now() - interval '1 minute' WHERE leaderboard_id = $1",
            board_id,
        )
    finally:
        await conn.close()


async def score_by_hand(database_url: str, board_id: str, player: str, score: int) -> None:
    """A score changed in Postgres alone (the index never hears of it), already settled."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            """
            UPDATE scores SET score = $3, reached_seq = nextval('score_reached_seq'),
                   updated_at = now() - interval '1 minute'
             WHERE leaderboard_id = $1 AND player_id = $2
            """,
            board_id,
            uuid.UUID(player),
            score,
        )
    finally:
        await conn.close()


async def test_a_lost_sorted_set_under_a_live_marker_is_rebuilt(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    """What allkeys-lru may do: the set goes, the ready marker stays."""
    board_id, _ = await board_of(live, database_url, 20)
    await settle(database_url, board_id)
    keys = index_keys(settings, board_id)
    await redis.unlink(keys.scores)
    assert await redis.exists(keys.ready) == 1
    report = await live.services.get(IndexGuard).run_once()
    assert board_id in report.rebuilt
    assert await served(live, board_id) == await postgres_ranking(database_url, board_id)


async def test_a_lost_members_hash_is_rebuilt(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    board_id, players = await board_of(live, database_url, 12)
    keys = index_keys(settings, board_id)
    await redis.unlink(keys.members)
    await live.services.get(IndexGuard).run_once()
    # Without the hash, a new submission would add the player a second time.
    await submit(live.http, board_id, players[0], 500)
    assert await served(live, board_id) == await postgres_ranking(database_url, board_id)


@pytest.mark.parametrize("lost", ["the whole hash", "one player's field"])
async def test_a_torn_index_never_lists_a_player_twice(
    live: Live, settings: Settings, redis: Redis, database_url: str, lost: str
) -> None:
    """The held-out case: the hash goes, and a player submits a better score before any
    round of the guard. The write finds the index torn and rebuilds it first."""
    board_id, players = await board_of(live, database_url, 30)
    keys = index_keys(settings, board_id)
    if lost == "the whole hash":
        await redis.unlink(keys.members)
    else:
        await redis.hdel(keys.members, players[3])
    await submit(live.http, board_id, players[3], 5_000)
    page = await served(live, board_id)
    assert len(page) == 30
    assert page == await postgres_ranking(database_url, board_id)
    assert await redis.zcard(keys.scores) == await redis.hlen(keys.members) == 30


async def test_a_torn_index_is_rebuilt_by_the_guard_without_traffic(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    board_id, _ = await board_of(live, database_url, 20)
    keys = index_keys(settings, board_id)
    await redis.hdel(keys.members, *(await redis.hkeys(keys.members))[:5])
    report = await live.services.get(IndexGuard).run_once()
    assert board_id in report.rebuilt
    assert await redis.hlen(keys.members) == await redis.zcard(keys.scores) == 20
    assert await served(live, board_id) == await postgres_ranking(database_url, board_id)


async def test_a_score_moved_behind_our_back_is_put_back(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    board_id, players = await board_of(live, database_url, 15)
    await settle(database_url, board_id)
    keys = index_keys(settings, board_id)
    seq = await redis.hget(keys.members, players[2])
    assert seq is not None
    await redis.zincrby(keys.scores, -1000, member_for(int(seq, 16), players[2]))  # desc: far ahead
    assert (await served(live, board_id))[0][0] == players[2], "the fault shows"
    report = await live.services.get(IndexGuard).run_once()
    assert report.repaired >= 1
    assert report.rebuilt == [], "one entry repaired, not the whole board"
    assert await served(live, board_id) == await postgres_ranking(database_url, board_id)
    # The distinct scores mend with the entry: dense ranks count 15 scores again.
    dense = await top(live.http, board_id, ranks="dense")
    assert [e["rank"] for e in dense["entries"]] == list(range(1, 16))
    assert await redis.zcard(keys.distinct) == 15


async def test_an_entry_added_behind_the_scripts_back_goes_in_one_round(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    """The digest no longer counts the sorted set: the index is rebuilt from Postgres."""
    board_id, _ = await board_of(live, database_url, 5)
    keys = index_keys(settings, board_id)
    ghost = str(uuid.uuid4())
    await redis.zadd(keys.scores, {member_for(1, ghost): -10_000})
    await redis.hset(keys.members, ghost, f"{1:016x}")
    assert ghost in [player for player, _ in await served(live, board_id)], "the fault shows"
    report = await live.services.get(IndexGuard).run_once()
    assert board_id in report.rebuilt
    assert await served(live, board_id) == await postgres_ranking(database_url, board_id)


async def test_a_write_that_never_reached_the_index_is_applied(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    """As when a worker died between its commit and its index write."""
    board_id, players = await board_of(live, database_url, 8)
    await score_by_hand(database_url, board_id, players[0], 999)
    await live.services.get(IndexGuard).run_once()
    assert (await served(live, board_id))[0] == (players[0], 999)
    assert await served(live, board_id) == await postgres_ranking(database_url, board_id)


async def test_an_index_built_on_another_server_is_rebuilt(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    """After a restart or a failover the run id differs: the last writes may be lost."""
    board_id, _ = await board_of(live, database_url, 6)
    keys = index_keys(settings, board_id)
    await live.services.get(IndexGuard).run_once()  # adopts the marker of the build it made
    await redis.set(keys.ready, "a-run-id-of-a-server-that-is-gone", keepttl=True)
    await redis.delete(keys.check)
    report = await live.services.get(IndexGuard).run_once()
    assert board_id in report.rebuilt
    assert await served(live, board_id) == await postgres_ranking(database_url, board_id)


async def test_a_healthy_board_is_left_alone(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    board_id, _ = await board_of(live, database_url, 30)
    await settle(database_url, board_id)
    first = await live.services.get(IndexGuard).run_once()
    mine = [p for p in first.periods if p.board_id == board_id and p.checked]
    assert mine, "the board was checked"
    assert (mine[0].repaired, mine[0].removed, mine[0].rebuilt) == (0, 0, None)
    assert mine[0].compared == 30
    # One check per interval across all workers: an immediate second round skips it.
    second = await live.services.get(IndexGuard).run_once()
    assert not [p for p in second.periods if p.board_id == board_id and p.checked]


async def segmented_board(live: Live, database_url: str) -> tuple[str, list[str]]:
    """A segmented board: four German players scoring 10, 20, 30, 40; DE's index built."""
    board_id = await create_board(live.http, segments=["country"])
    players = [player for player, _ in await insert_players(database_url, 4)]
    for i, player in enumerate(players):
        patched = await live.http.patch(
            f"/v1/players/{player}", json={"country": "DE"}, headers=ADMIN
        )
        assert patched.status_code == 200, patched.text
        await submit(live.http, board_id, player, 10 * (i + 1))
    assert len(await served_in(live, board_id, "DE")) == 4  # read: DE's index is built
    return board_id, players


async def served_in(live: Live, board_id: str, country: str) -> list[tuple[str, int]]:
    page = await top(live.http, board_id, country=country)
    assert page["total"] == len(page["entries"])
    return ranked(page["entries"])


async def test_a_repair_of_the_boards_index_mends_its_country_indexes(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    """A lost write misses the board's index and its country's alike (one script call)."""
    board_id, players = await segmented_board(live, database_url)
    await settle(database_url, board_id)
    expected = await postgres_ranking(database_url, board_id)
    for keys in (index_keys(settings, board_id), country_keys(settings, board_id, "DE")):
        seq = await redis.hget(keys.members, players[0])
        assert seq is not None
        await redis.zincrby(keys.scores, -1000, member_for(int(seq, 16), players[0]))
    assert (await served_in(live, board_id, "DE"))[0][0] == players[0], "the fault shows"
    report = await live.services.get(IndexGuard).run_once()
    assert report.repaired >= 1
    assert await served(live, board_id) == expected
    assert await served_in(live, board_id, "DE") == expected  # every player is German


async def test_a_country_index_is_rebuilt_with_its_boards_after_a_restart(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    """Built on a server that is gone: the country index may have lost writes too."""
    board_id, players = await segmented_board(live, database_url)
    keys, segment = index_keys(settings, board_id), country_keys(settings, board_id, "DE")
    await live.services.get(IndexGuard).run_once()  # adopts the marker of the build it made
    seq = await redis.hget(segment.members, players[0])
    assert seq is not None
    await redis.zincrby(segment.scores, -1000, member_for(int(seq, 16), players[0]))
    await redis.set(keys.ready, "a-run-id-of-a-server-that-is-gone", keepttl=True)
    await redis.delete(keys.check)
    report = await live.services.get(IndexGuard).run_once()
    assert board_id in report.rebuilt
    assert await redis.exists(segment.ready) == 0  # dropped: its next read builds it
    assert await served_in(live, board_id, "DE") == await postgres_ranking(database_url, board_id)


def country_keys(settings: Settings, board_id: str, country: str) -> IndexKeys:
    return Keys(settings.redis_key_prefix).index(board_id, "all", country)


async def test_a_country_change_left_unmoved_is_moved_by_the_next_round(
    live: Live, settings: Settings, redis: Redis, database_url: str
) -> None:
    """The worker died between the profile's commit and the move: what it leaves is a
    committed profile, its ``country_moves`` row, and indexes as they were."""
    board_id, players = await segmented_board(live, database_url)
    assert await served_in(live, board_id, "FR") == []  # FR's index is built (empty)
    moved, *stayed = players
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute(
                "UPDATE players SET country = 'FR', version = version + 1 WHERE id = $1", moved
            )
            await conn.execute(
                # As the profile's transaction writes it (its PATCH to DE left a moved row).
                "INSERT INTO country_moves (player_id, old_countries, new_country, changed_at)"
                " VALUES ($1, '{DE,GB}', 'FR', now() - interval '1 minute')"
                " ON CONFLICT (player_id) DO UPDATE SET old_countries = excluded.old_countries,"
                " new_country = excluded.new_country, changed_at = excluded.changed_at,"
                " moved_at = NULL",
                moved,
            )
        await redis.unlink(Keys(settings.redis_key_prefix).profile(moved))
        assert moved in [p for p, _ in await served_in(live, board_id, "DE")], "the fault"
        report = await live.services.get(IndexGuard).run_once()
        assert report.countries_moved == 1
        assert [p for p, _ in await served_in(live, board_id, "DE")] == stayed[::-1]
        assert [p for p, _ in await served_in(live, board_id, "FR")] == [moved]
        assert not await conn.fetchval("SELECT 1 FROM country_moves WHERE player_id = $1", moved)
        again = await live.services.get(IndexGuard).run_once()
        assert again.countries_moved == 0
    finally:
        await conn.close()


async def test_a_move_undone_by_a_late_submission_is_moved_again_once_settled(
    live: Live, database_url: str
) -> None:
    """A submission's statement read DE; its commit and index call came after the move to
    FR: the call put the player back in DE, with a score FR never got. The guard's second
    move, once the change is 10 s old, takes them out of DE and brings FR the new score."""
    board_id, players = await segmented_board(live, database_url)
    assert await served_in(live, board_id, "FR") == []  # FR's index is built (empty)
    moved, *stayed = players
    patched = await live.http.patch(f"/v1/players/{moved}", json={"country": "FR"}, headers=ADMIN)
    assert patched.status_code == 200, patched.text
    assert [p for p, _ in await served_in(live, board_id, "FR")] == [moved]
    conn = await asyncpg.connect(database_url)
    try:
        # The late submission: committed (a new best, a newer sequence) after the move
        # read the player's entries, then its index call, with the country it read.
        late = await conn.fetchrow(
            "UPDATE scores SET score = 1000, reached_seq = nextval('score_reached_seq')"
            " WHERE leaderboard_id = $1 AND player_id = $2 AND span = 0"
            " RETURNING period_start, score, reached_seq",
            board_id,
            moved,
        )
        assert late is not None
        board = await live.services.get(BoardService).get(board_id)
        await live.services.get(RankIndex).apply(
            board, late["period_start"], moved, late["score"], late["reached_seq"],
            changed=True, announce=False, country="DE",
        )  # fmt: skip
        assert (moved, 1000) in await served_in(live, board_id, "DE"), "the fault"
        assert await served_in(live, board_id, "FR") == [(moved, 10)], "the fault"

        await live.services.get(IndexGuard).run_once()
        assert await conn.fetchval(
            "SELECT moved_at IS NOT NULL FROM country_moves WHERE player_id = $1", moved
        ), "moved once, and not again before the change is 10 s old"
        assert await served_in(live, board_id, "FR") == [(moved, 10)]
        await conn.execute(
            "UPDATE country_moves SET changed_at = changed_at - interval '1 minute',"
            " moved_at = moved_at - interval '1 minute' WHERE player_id = $1",
            moved,
        )
        report = await live.services.get(IndexGuard).run_once()
        assert report.country_moves_settled >= 1  # (the session's other tests' rows too)
        assert [p for p, _ in await served_in(live, board_id, "DE")] == stayed[::-1]
        assert await served_in(live, board_id, "FR") == [(moved, 1000)]
        assert not await conn.fetchval("SELECT 1 FROM country_moves WHERE player_id = $1", moved)
    finally:
        await conn.close()
