"""The TypeScript client (clients/typescript) in headless Chromium, against a real service.

Its example game (example/index.html) is served by a second HTTP server (Python's, as the
client's README serves it), on another origin than the service's, which allows that
origin only (LEADERBOARD_CORS_ORIGINS): every request and the WebSocket cross origins as
a browser game's do. The page signs in, plays rounds, reads the board and follows its
live events while the service is stopped and started again on the same port, Postgres
and Redis; it must see every event the board published, in order, once. Submissions are
retried under one Idempotency-Key when their answer is lost or the service answers 503,
and a 429 is a typed error. A Node.js game server submits with a server key.
"""

from __future__ import annotations

import functools
import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, Route
from redis import Redis as SyncRedis

from leaderboard.lib.keys import Keys
from leaderboard.ops.embedded import EmbeddedValkey
from tests.clients.npm import PACKAGE
from tests.helpers import free_port
from tests.live_page_helpers import Seed
from tests.pages import problems
from tests.procs import RunningService, running_service, service_env

pytestmark = pytest.mark.slow

# Patient retries for a submission sent while the service is away (the default policy
# gives up after about 4 s; a restart can take longer on a busy machine).
PATIENT = "{attempts: 60, baseDelayMs: 100, maxDelayMs: 500, timeoutMs: 5000}"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test's output is for failures


@contextmanager
def static_site(root: Path) -> Iterator[str]:
    """``root`` over HTTP on a port of its own: its origin."""
    handler = functools.partial(QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Service:
    """A `leaderboard serve` that the test may stop and start again on the same port."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._running = ExitStack()

    def start(self) -> RunningService:
        return self._running.enter_context(running_service(self.tmp_path, self.env, port=self.port))

    def stop(self) -> None:
        self._running.close()


@pytest.fixture(scope="module")
def site(built_example: Path) -> Iterator[str]:
    with static_site(built_example) as origin:
        yield origin


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
    redis_server_url: str,
    redis_key_prefix: str,
    site: str,
) -> Iterator[Service]:
    tmp_path = tmp_path_factory.mktemp("ts-client")
    env = service_env(
        tmp_path, database_url, redis_server_url, redis_key_prefix, LEADERBOARD_CORS_ORIGINS=site
    )
    served = Service(tmp_path, env)
    served.start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture(scope="module")
def seed(service: Service) -> Iterator[Seed]:
    seeding = Seed(service.base)
    yield seeding
    seeding.close()


@pytest.fixture
def stream_ids(redis_server_url: str, redis_key_prefix: str) -> Iterator[Any]:
    """The ids a board's event stream holds, oldest first: every event it published."""
    client = SyncRedis.from_url(redis_server_url, decode_responses=True)
    keys = Keys(redis_key_prefix)

    def ids(board: str) -> list[str]:
        entries: list[tuple[str, dict[str, str]]] = client.xrange(  # type: ignore[assignment]
            keys.events_stream(board)
        )
        return [entry_id for entry_id, _ in entries]

    yield ids
    client.close()


def open_game(page: Page, site: str, api: str, board: str, name: str) -> list[str]:
    """The example game, signed in and subscribed; the page's problems (script errors)."""
    # No page.route here: a routed request waits for this (Python) process, and the test
    # must not hold the page's requests while it stops or starts the service.
    found = problems(page)
    query = urlencode({"api": api, "board": board, "name": name})
    page.goto(f"{site}/example/?{query}")  # as clients/typescript/README.md serves it
    page.wait_for_function(
        "() => window.game?.statuses.includes('live') && window.game.top !== null",
        timeout=15_000,
    )
    return found


def play(page: Page, score: int) -> dict[str, Any]:
    """One round of the game: a submission through the client, then the top 10 again."""
    played: dict[str, Any] = page.evaluate(
        """async (score) => {
            const s = await game.play(score);
            return {rank: s.result.rank, replayed: s.replayed, attempts: s.attempts,
                    key: s.idempotencyKey};
        }""",
        score,
    )
    return played


def events(page: Page) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = page.evaluate("() => game.events")
    return received


def wait_for_events(page: Page, count: int, timeout: float = 20_000) -> list[dict[str, Any]]:
    page.wait_for_function(f"() => game.events.length >= {count}", timeout=timeout)
    return events(page)


def test_a_game_on_another_origin_plays_through_a_service_restart(
    page: Page, site: str, service: Service, seed: Seed, stream_ids: Any
) -> None:
    board = seed.board("Tap race")
    rival = seed.player("Rival")
    seed.score(board, rival, 500)
    published_before = len(stream_ids(board))
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    allowed: list[str | None] = []
    page.on(
        "response",
        lambda r: (
            allowed.append(r.headers.get("access-control-allow-origin"))
            if r.url.startswith(service.base)
            else None
        ),
    )
    found = open_game(page, site, service.base, board, "Ada")
    assert site != service.base
    me = page.evaluate("() => game.playerId")

    # Two rounds: the second passes the rival (an overtaken event for them).
    assert play(page, 300)["rank"] == 2
    second = play(page, 700)
    assert (second["rank"], second["replayed"], second["attempts"]) == (1, False, 1)
    assert len(second["key"]) == 32
    received = wait_for_events(page, 3)
    assert [(e["type"], e["player_id"], e["rank"]) for e in received] == [
        ("rank_changed", me, 2),
        ("rank_changed", me, 1),
        ("overtaken", rival, 2),
    ]
    reads = page.evaluate(
        """async (rival) => {
            const c = game.client, b = game.boardId, me = game.playerId;
            return {entry: await c.entry(b, me), around: await c.around(b, me, {radius: 1}),
                    friends: await c.players(b, [rival, me]),
                    histogram: await c.histogram(b, {buckets: 2})};
        }""",
        rival,
    )
    assert (reads["entry"]["rank"], reads["entry"]["score"], reads["entry"]["to_next"]) == (
        1, 700, None
    )  # fmt: skip
    assert [e["player_id"] for e in reads["around"]["entries"]] == [me, rival]
    assert [(e["display_name"], e["rank"]) for e in reads["friends"]["entries"]] == [
        ("Ada", 1), ("Rival", 2)
    ]  # fmt: skip
    assert sum(b["count"] for b in reads["histogram"]["buckets"]) == 2
    assert allowed
    assert set(allowed) == {site}

    # The service goes away mid-subscription (its shutdown closes the WebSocket), and
    # comes back on the same port, Postgres and Redis. The browser is kept offline until
    # the rival has scored: those events reach the page only by resuming.
    last_before = received[-1]["id"]
    service.stop()
    page.wait_for_function("() => game.subscription.status === 'reconnecting'", timeout=10_000)
    page.context.set_offline(True)
    page.evaluate(
        f"""() => {{
            const patient = new game.lib.LeaderboardClient({{baseUrl: game.client.baseUrl,
                token: game.client.sessionToken, retry: {PATIENT}}});
            window.during = patient.submitScore(game.boardId, 800).then(
                (s) => ({{rank: s.result.rank, attempts: s.attempts, replayed: s.replayed}}),
                (e) => ({{error: String(e)}}));
        }}"""
    )
    service.start()
    seed.score(board, rival, 1000)  # the rival passes the page's player
    assert page.evaluate("() => [game.subscription.status, game.events.length]") == [
        "reconnecting", 3
    ]  # fmt: skip
    page.context.set_offline(False)  # back online: it reconnects at once
    during = page.evaluate("() => window.during")  # the round sent while it was all away
    assert (during.get("rank"), during.get("replayed")) == (2, False), during
    assert during["attempts"] > 1
    assert play(page, 1200)["rank"] == 1  # and a round once everything is back

    everything = stream_ids(board)[published_before:]
    received = wait_for_events(page, len(everything))
    assert [e["id"] for e in received] == everything  # none lost, none twice, in order
    assert [(e["type"], e["player_id"], e["rank"]) for e in received[3:]] == [
        ("rank_changed", rival, 1),  # published while the page was away: resumed
        ("overtaken", me, 2),
        ("rank_changed", me, 2),  # 800, sent while the service was away
        ("rank_changed", me, 1),  # 1200
        ("overtaken", rival, 2),
    ]
    assert page.evaluate("() => game.subscription.status") == "live"
    # Every reconnection asked to resume after the last event received before.
    assert len(sockets) >= 2
    assert all(f"last_event_id={last_before}" in url for url in sockets[1:]), sockets
    assert found == []


def test_a_submission_whose_answer_was_lost_is_applied_once(
    page: Page, site: str, service: Service, seed: Seed, stream_ids: Any
) -> None:
    """The request reaches the service, the answer never reaches the page: the retry
    carries the same key and gets the first answer, replayed; the score counts once."""
    board = seed.board("Lost answers", operator="sum")
    found = open_game(page, site, service.base, board, "Grace")
    keys: list[str | None] = []

    def lose_first_answer(route: Route) -> None:
        if route.request.method != "POST":  # a CORS preflight
            route.fallback()
            return
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the service applies it...
            route.abort("connectionreset")  # ...and the connection breaks before the answer
        else:
            route.fallback()

    page.route("**/v1/leaderboards/*/scores", lose_first_answer)
    lost = play(page, 40)
    assert (lost["replayed"], lost["attempts"]) == (True, 2)
    assert keys == [lost["key"], lost["key"]]
    me = page.evaluate("() => game.playerId")
    assert seed.get(f"/v1/leaderboards/{board}/players/{me}")["score"] == 40  # not 80
    assert len(stream_ids(board)) == 1  # one event: it was applied once
    assert found == []


def test_over_the_rate_limit_is_a_typed_error(
    page: Page, site: str, service: Service, seed: Seed
) -> None:
    board = seed.board("Two a minute", rate_limit={"limit": 2, "window_seconds": 60})
    open_game(page, site, service.base, board, "Linus")
    play(page, 1)
    play(page, 2)
    refused = page.evaluate(
        """async () => {
            try { await game.client.submitScore(game.boardId, 3); return null; }
            catch (e) {
                return {limited: e instanceof game.lib.RateLimitedError, name: e.name,
                        status: e.status, retryAfter: e.retryAfterSeconds,
                        inFuture: e.retryAt.getTime() > Date.now(),
                        remaining: e.rateLimit?.remaining, detail: e.message};
            }
        }"""
    )
    assert refused is not None
    assert refused["limited"]
    assert refused["name"] == "RateLimitedError"
    assert (refused["status"], refused["remaining"]) == (429, 0)
    assert refused["retryAfter"] >= 1
    assert refused["inFuture"]
    # The third changed nothing.
    assert page.evaluate("async () => (await game.refresh()).entries[0].score") == 2


@pytest.fixture
def outage_service(
    tmp_path: Path,
    database_url: str,
    own_valkey: EmbeddedValkey,
    site: str,
) -> Iterator[RunningService]:
    """A service over a Redis of the test's own, which the test stops: a real 503."""
    env = service_env(
        tmp_path,
        database_url,
        own_valkey.url,
        "tsoutage:",
        LEADERBOARD_CORS_ORIGINS=site,
        LEADERBOARD_REDIS_TIMEOUT="0.5",
    )
    with running_service(tmp_path, env) as running:
        yield running


def test_a_submission_answered_503_is_retried_until_it_is_applied(
    page: Page, site: str, outage_service: RunningService, own_valkey: EmbeddedValkey
) -> None:
    seed = Seed(outage_service.base)
    try:
        board = seed.board("Outage")
    finally:
        seed.close()
    open_game(page, site, outage_service.base, board, "Barbara")
    statuses: list[int] = []
    page.on(
        "response",
        lambda r: statuses.append(r.status) if r.request.method == "POST" else None,
    )
    own_valkey.stop()
    page.evaluate(
        f"""() => {{
            const patient = new game.lib.LeaderboardClient({{baseUrl: game.client.baseUrl,
                token: game.client.sessionToken, retry: {PATIENT}}});
            window.during = patient.submitScore(game.boardId, 77).then(
                (s) => ({{rank: s.result.rank, score: s.result.score, attempts: s.attempts}}),
                (e) => ({{error: String(e)}}));
        }}"""
    )
    wait_for_answers(page, statuses, 503, 2)
    own_valkey.start(same_port=True)
    during = page.evaluate("() => window.during")
    assert (during.get("rank"), during.get("score")) == (1, 77), during
    assert during["attempts"] > 1
    assert (statuses[-1], set(statuses[:-1])) == (200, {503}), statuses


def wait_for_answers(page: Page, statuses: list[int], status: int, count: int) -> None:
    """Until the page got ``count`` answers of ``status`` (Playwright hands the page's
    events to Python while it waits, so the wait is in short steps), at most 10 s."""
    for _ in range(200):
        if statuses.count(status) >= count:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"not {count} answers {status}: {statuses}")


def test_a_game_server_submits_with_a_server_key_from_node(
    built_example: Path, service: Service, seed: Seed
) -> None:
    """Node.js (a game server) submits for a player with a server key; without the player
    id the client refuses before sending."""
    board = seed.board("Server side")
    player = seed.player("Margaret")
    made = seed.http.post("/v1/server-keys", json={"name": "node server", "leaderboards": [board]})
    assert made.status_code == 201, made.text
    script = """
        const { LeaderboardClient } = await import(process.argv[1]);
        const [base, key, board, player] = process.argv.slice(2);
        const server = new LeaderboardClient({ baseUrl: base, serverKey: key });
        const done = await server.submitScore(board, 1234, { playerId: player });
        let refused = null;
        try { await server.submitScore(board, 1); } catch (e) { refused = e.message; }
        console.log(JSON.stringify({ result: done.result, refused }));
    """
    client = built_example / "build" / "src" / "index.js"
    done = subprocess.run(
        [
            "node",
            "--input-type=module",
            "-e",
            script,
            client.as_uri(),
            service.base,
            made.json()["key"],
            board,
            player,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=PACKAGE,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["result"]["player_id"], answer["result"]["score"]) == (player, 1234)
    assert "playerId" in answer["refused"]


def test_a_silent_connection_is_replaced_and_resumed(
    page: Page, site: str, service: Service, seed: Seed, stream_ids: Any
) -> None:
    """No message within heartbeatTimeoutMs: the client drops the connection and opens
    another, resuming; events published across those reconnections arrive once, in order."""
    board = seed.board("Quiet")
    open_game(page, site, service.base, board, "Hedy")
    page.evaluate(
        """() => {
            window.churned = [];
            window.churn = game.client.subscribe(game.boardId, {
                heartbeatTimeoutMs: 300, reconnect: {baseDelayMs: 50, maxDelayMs: 100},
                onEvent: (event) => window.churned.push(event.id),
            });
        }"""
    )
    page.wait_for_function("() => window.churn.connections >= 3", timeout=10_000)
    for score in range(1, 8):
        # One submission per connection: each lands before, during or after a switch.
        opened = page.evaluate("() => window.churn.connections")
        seed.score(board, seed.player(f"Quiet {score}"), score)
        page.wait_for_function(f"() => window.churn.connections > {opened}", timeout=10_000)
    # A last event: it comes after any repeat of the earlier ones would have (in order).
    seed.score(board, seed.player("Last"), 100)
    everything = stream_ids(board)
    page.wait_for_function(f"() => window.churned.includes('{everything[-1]}')", timeout=10_000)
    assert page.evaluate("() => window.churned") == everything  # each once, in order
    assert page.evaluate("() => window.churn.connections") > 8
    page.evaluate("() => window.churn.close()")
