"""Spans: one board ranks the same submissions over several periods at once.

A board with ``"spans": ["daily", "weekly", "monthly"]`` applies each submission to the
current day, week and month, as one record; every read takes ``?span=``; events say
which span changed; moderation and the index guard reach every span's entries.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any, cast

import asyncpg
import httpx
import pytest

from leaderboard.boards.models import Reset
from leaderboard.boards.periods import period_start
from leaderboard.lib.clock import MovableClock
from leaderboard.lib.features import Services
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.settings import Settings
from leaderboard.ranking.guard import IndexGuard
from leaderboard.server.app import create_app
from leaderboard.server.plugin import InfrastructurePlugin
from tests.conftest import ADMIN, running
from tests.scores_helpers import create_board, insert_players, post_score, ranked, submit

pytestmark = pytest.mark.redis_modes
Http = httpx.AsyncClient
SPANS: list[Reset] = ["daily", "weekly", "monthly"]


@pytest.fixture
async def live(settings: Settings, clock: MovableClock) -> AsyncIterator[tuple[Http, Services]]:
    app = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=cast("Any", app))
    async with (
        running(app),
        httpx.AsyncClient(transport=transport, base_url="http://spans.local") as http,
    ):
        yield http, app.plugins.get(InfrastructurePlugin).services


async def read(http: Http, path: str, **params: Any) -> dict[str, Any]:
    response = await http.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def served(http: Http, board_id: str, span: str, **params: Any) -> list[tuple[str, int]]:
    page = await read(http, f"/v1/leaderboards/{board_id}/top", span=span, **params)
    assert page["span"] == span
    assert page["total"] == len(page["entries"])
    return ranked(page["entries"])


async def stored(database_url: str, board_id: str, span_no: int) -> list[tuple[str, int]]:
    """What Postgres holds for one span's current rows, best first."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            """
            SELECT player_id::text, score FROM scores
             WHERE leaderboard_id = $1 AND span = $2 AND NOT hidden
               AND period_start = (SELECT max(period_start) FROM scores
                                    WHERE leaderboard_id = $1 AND span = $2)
             ORDER BY score DESC, reached_seq
            """,
            board_id,
            span_no,
        )
    finally:
        await conn.close()
    return [(row[0], row[1]) for row in rows]


async def events_of(redis: AnyRedis, prefix: str, board_id: str) -> list[dict[str, Any]]:
    stream = Keys(prefix).events_stream(board_id)
    entries: list[tuple[str, dict[str, str]]] = await redis.xrange(stream)  # type: ignore[assignment]
    return [json.loads(fields["event"]) for _, fields in entries]


async def test_a_submission_counts_in_every_span_as_one_record(
    live: tuple[Http, Services], database_url: str, clock: MovableClock
) -> None:
    http, _ = live
    board_id = await create_board(http, reset="daily", spans=SPANS, operator="sum")
    board = await read(http, f"/v1/leaderboards/{board_id}")
    assert (board["reset"], board["spans"]) == ("daily", SPANS)
    (a, _), (b, _) = await insert_players(database_url, 2)
    today = clock().date()
    first = await submit(http, board_id, a, 10)
    assert (first["score"], first["rank"], first["period"]) == (10, 1, today.isoformat())
    assert list(first["spans"]) == SPANS
    assert {span: v["period"] for span, v in first["spans"].items()} == {
        span: period_start(span, today).isoformat() for span in SPANS
    }
    assert first["spans"]["weekly"] == {
        "period": period_start("weekly", today).isoformat(),
        "score": 10,
        "rank": 1,
        "previous_score": None,
        "previous_rank": None,
        "changed": True,
    }
    await submit(http, board_id, b, 30)
    again = await submit(http, board_id, a, 25)
    assert again["spans"]["monthly"] == {
        "period": period_start("monthly", today).isoformat(),
        "score": 35,
        "rank": 1,
        "previous_score": 10,
        "previous_rank": 2,
        "changed": True,
    }
    for span in SPANS:
        assert await served(http, board_id, span) == [(a, 35), (b, 30)]
        entry = await read(http, f"/v1/leaderboards/{board_id}/players/{a}", span=span)
        assert (entry["span"], entry["score"], entry["rank"]) == (span, 35, 1)
        around = await read(http, f"/v1/leaderboards/{board_id}/players/{b}/around", span=span)
        assert (around["span"], around["total"]) == (span, 2)
        listed = await read(http, f"/v1/leaderboards/{board_id}/players", ids=b, span=span)
        assert listed["span"] == span
        assert ranked(listed["entries"]) == [(b, 30)]
        shape = await read(http, f"/v1/leaderboards/{board_id}/histogram", span=span)
        assert (shape["span"], shape["total"]) == (span, 2)
        history = await read(http, f"/v1/leaderboards/{board_id}/players/{a}/history", span=span)
        assert history["span"] == span
        assert [(p["score"], p["rank"]) for p in history["periods"]] == [(35, 1)]
    # Without ?span=: the primary, the board's reset.
    assert (await read(http, f"/v1/leaderboards/{board_id}/top"))["span"] == "daily"


@pytest.mark.calendar
async def test_each_span_starts_its_own_periods(
    live: tuple[Http, Services], database_url: str, clock: MovableClock
) -> None:
    """Across a day (and on the days that matter, a week, month or year) boundary."""
    http, _ = live
    board_id = await create_board(http, reset="daily", spans=SPANS, operator="sum")
    (a, _), (b, _) = await insert_players(database_url, 2)
    day0 = clock().date()
    await submit(http, board_id, a, 10)
    await submit(http, board_id, b, 1)
    clock.set(clock() + timedelta(days=1))
    day1 = day0 + timedelta(days=1)
    answer = await submit(http, board_id, a, 5)
    for span in SPANS:
        same = period_start(span, day0) == period_start(span, day1)
        expected = 15 if same else 5
        assert answer["spans"][span]["score"] == expected, span
        assert answer["spans"][span]["period"] == period_start(span, day1).isoformat()
        assert answer["spans"][span]["previous_score"] == (10 if same else None)
        assert await served(http, board_id, span) == ([(a, 15), (b, 1)] if same else [(a, 5)])
        # The period before, read through the span's own ?period=.
        previous = await served(http, board_id, span, period=day0.isoformat())
        assert previous == ([(a, 15), (b, 1)] if same else [(a, 10), (b, 1)])
    assert answer["score"] == 5  # the primary span's (daily)


async def test_events_say_which_span_changed(
    live: tuple[Http, Services],
    database_url: str,
    clock: MovableClock,
    redis: AnyRedis,
    redis_key_prefix: str,
) -> None:
    http, _ = live
    board_id = await create_board(http, reset="daily", spans=["daily", "never"])
    (a, _), *_ = await insert_players(database_url, 1)
    await submit(http, board_id, a, 50)
    changed = [e for e in await events_of(redis, redis_key_prefix, board_id)]
    # One event per span; in no promised order (a span whose index is built on this first
    # write sends its event after one that was ready).
    assert sorted((e["type"], e["span"], e["score"]) for e in changed) == [
        ("rank_changed", "daily", 50),
        ("rank_changed", "never", 50),
    ]
    assert {e["span"]: e["period"] for e in changed}["never"] is None
    clock.set(clock() + timedelta(days=1))
    # A new day: the daily entry is new, the all-time best is not beaten.
    answer = await submit(http, board_id, a, 20)
    assert answer["spans"]["never"]["changed"] is False
    later = (await events_of(redis, redis_key_prefix, board_id))[2:]
    assert [(e["type"], e["span"], e["score"]) for e in later] == [("rank_changed", "daily", 20)]


async def test_moderation_reaches_each_span(live: tuple[Http, Services], database_url: str) -> None:
    http, _ = live
    board_id = await create_board(http, reset="weekly", spans=["weekly", "never"])
    (a, _), (b, _) = await insert_players(database_url, 2)
    await submit(http, board_id, a, 20)
    await submit(http, board_id, b, 10)
    # One span's entry goes; the other span keeps the player.
    removed = await http.delete(
        f"/v1/leaderboards/{board_id}/players/{a}", params={"span": "never"}, headers=ADMIN
    )
    assert removed.status_code == 204, removed.text
    assert await served(http, board_id, "never") == [(b, 10)]
    assert await served(http, board_id, "weekly") == [(a, 20), (b, 10)]
    # A ban hides every span's entries; an unban shows them again.
    assert (await http.post(f"/v1/players/{b}/ban", headers=ADMIN)).status_code == 204
    assert await served(http, board_id, "never") == []
    assert await served(http, board_id, "weekly") == [(a, 20)]
    assert (await http.delete(f"/v1/players/{b}/ban", headers=ADMIN)).status_code == 204
    assert await served(http, board_id, "never") == [(b, 10)]
    assert await served(http, board_id, "weekly") == [(a, 20), (b, 10)]
    # A deleted player leaves every span.
    assert (await http.delete(f"/v1/players/{b}", headers=ADMIN)).status_code == 204
    assert await served(http, board_id, "never") == []
    assert await served(http, board_id, "weekly") == [(a, 20)]


async def test_a_lost_span_index_converges_back(
    live: tuple[Http, Services], settings: Settings, redis: AnyRedis, database_url: str
) -> None:
    http, services = live
    board_id = await create_board(http, reset="daily", spans=SPANS)
    players = [p for p, _ in await insert_players(database_url, 5)]
    for i, player in enumerate(players):
        await submit(http, board_id, player, 10 * (i + 1))
    keys = Keys(settings.redis_key_prefix)
    week = period_start("weekly", live_day(await read(http, f"/v1/leaderboards/{board_id}/top")))
    weekly = keys.index(board_id, f"weekly.{week.isoformat()}")
    assert await redis.exists(weekly.scores) == 1, "the weekly index has its own keys"
    await redis.unlink(weekly.scores)
    report = await services.get(IndexGuard).run_once()
    assert board_id in report.rebuilt
    assert await served(http, board_id, "weekly") == await stored(database_url, board_id, 1)
    assert len(await served(http, board_id, "weekly")) == 5


async def test_a_submission_rebuilds_a_lost_span_index_it_meets(
    live: tuple[Http, Services], settings: Settings, redis: AnyRedis, database_url: str
) -> None:
    """One span's index lost: the submission builds it and answers every span's rank."""
    http, _ = live
    board_id = await create_board(http, reset="daily", spans=SPANS)
    a, b = [p for p, _ in await insert_players(database_url, 2)]
    await submit(http, board_id, a, 50)
    week = period_start("weekly", live_day(await read(http, f"/v1/leaderboards/{board_id}/top")))
    weekly = Keys(settings.redis_key_prefix).index(board_id, f"weekly.{week.isoformat()}")
    await redis.unlink(weekly.scores, weekly.ready)
    answer = await submit(http, board_id, b, 70)
    assert {span: (v["score"], v["rank"]) for span, v in answer["spans"].items()} == {
        span: (70, 1) for span in SPANS
    }
    for span_no, span in enumerate(SPANS):
        assert await served(http, board_id, span) == [(b, 70), (a, 50)]
        assert await served(http, board_id, span) == await stored(database_url, board_id, span_no)


async def test_every_span_of_a_submission_is_one_script_call(
    live: tuple[Http, Services], database_url: str
) -> None:
    """Three spans with a country segment make as many script calls as a plain board."""
    http, services = live
    plain = await create_board(http, reset="daily")
    spans = await create_board(http, reset="daily", spans=SPANS, segments=["country"])
    (player, _), *_ = await insert_players(database_url, 1)
    batcher = services.infra.pipeline.batcher
    calls: dict[str, int] = {}
    for board_id in (plain, spans):
        await submit(http, board_id, player, 1)  # the indexes are built
        before = batcher.items_sent
        await submit(http, board_id, player, 2)
        calls[board_id] = batcher.items_sent - before
    assert calls[spans] == calls[plain]


def live_day(page: dict[str, Any]) -> date:
    """The primary (daily) period a page read: today on the service's clock."""
    return date.fromisoformat(page["period"])


async def test_spans_with_country_segments(live: tuple[Http, Services], database_url: str) -> None:
    http, _ = live
    board_id = await create_board(http, spans=["never", "monthly"], segments=["country"])
    (de, _), (fr, _) = await insert_players(database_url, 2)
    for player, country in ((de, "DE"), (fr, "FR")):
        response = await http.patch(
            f"/v1/players/{player}", json={"country": country}, headers=ADMIN
        )
        assert response.status_code == 200, response.text
    await submit(http, board_id, de, 5)
    await submit(http, board_id, fr, 9)
    await submit(http, board_id, de, 7)
    for span in ("never", "monthly"):
        assert await served(http, board_id, span, country="DE") == [(de, 7)]
        assert await served(http, board_id, span) == [(fr, 9), (de, 7)]


@pytest.mark.parametrize(
    "spec",
    [
        {"reset": "daily", "spans": ["weekly", "daily"]},  # the first is not the reset
        {"spans": ["daily", "daily"]},
        {"spans": []},
        {"spans": ["daily", "weekly", "monthly", "never", "daily"]},
        {"spans": ["hourly"]},
    ],
)
async def test_bad_spans_are_a_400_naming_spans(
    live: tuple[Http, Services], spec: dict[str, Any]
) -> None:
    http, _ = live
    body = {"id": f"s-{uuid.uuid4().hex[:10]}", **spec}
    response = await http.post("/v1/leaderboards", json=body, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert response.json()["field"].startswith("spans")  # or spans[0]: the bad item
    assert (await http.get(f"/v1/leaderboards/{body['id']}")).status_code == 404


async def test_spans_alone_set_the_reset_and_cannot_change(
    live: tuple[Http, Services], database_url: str
) -> None:
    http, _ = live
    board_id = await create_board(http, spans=["weekly", "never"])
    board = await read(http, f"/v1/leaderboards/{board_id}")
    assert (board["reset"], board["spans"]) == ("weekly", ["weekly", "never"])
    plain = await read(http, f"/v1/leaderboards/{await create_board(http, reset='daily')}")
    assert plain["spans"] == ["daily"]
    patched = await http.patch(
        f"/v1/leaderboards/{board_id}", json={"spans": ["weekly"]}, headers=ADMIN
    )
    assert patched.status_code == 400, patched.text
    assert patched.json()["field"] == "spans"
    (a, _), *_ = await insert_players(database_url, 1)
    await submit(http, board_id, a, 1)
    for path in ("top", f"players/{a}", "histogram", f"players/{a}/history"):
        response = await http.get(f"/v1/leaderboards/{board_id}/{path}", params={"span": "daily"})
        assert response.status_code == 400, (path, response.text)
        assert response.json()["field"] == "span"
    refused = await post_score(http, board_id, a, 2)
    assert refused.status_code == 200  # the board still takes scores
