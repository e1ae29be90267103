"""The soak's clients: signed-in submitters, readers, SSE and WebSocket subscribers.

Each kind runs as asyncio tasks until ``stop`` is set, paced (a load generator waits
between its requests on purpose), and notes what it was told: every submission's status,
every acknowledged (200) score, every event received, per minute of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx
import msgspec
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import WebSocketException

RATE_LIMIT = {"limit": 10_000, "window_seconds": 60}


@dataclass
class Player:
    player_id: str
    device_id: str
    token: str


@dataclass
class Tally:
    """What the clients saw, for the report."""

    started: float = field(default_factory=time.monotonic)
    submissions: Counter[int] = field(default_factory=Counter)
    reads: Counter[int] = field(default_factory=Counter)
    acknowledged: list[tuple[str, str, int]] = field(default_factory=list)
    """(board, player, score) of every 200."""
    events_by_minute: Counter[int] = field(default_factory=Counter)
    stream_reconnects: Counter[str] = field(default_factory=Counter)
    signed_in_again: int = 0

    def minute(self) -> int:
        return int((time.monotonic() - self.started) // 60)


class Load:
    def __init__(self, base: str, admin_token: str, boards: int, rng: random.Random) -> None:
        self.base = base
        self.admin = {"Authorization": f"Bearer {admin_token}"}
        self.boards = [f"soak-{uuid.uuid4().hex[:6]}-{i}" for i in range(boards)]
        self.players: list[Player] = []
        self.tally = Tally()
        self.stop = asyncio.Event()
        self._rng = rng
        self._http = httpx.AsyncClient(
            base_url=base, timeout=15, limits=httpx.Limits(max_connections=200)
        )

    async def setup(self, submitters: int) -> None:
        for board in self.boards:
            body = {"id": board, "rate_limit": RATE_LIMIT}
            response = await self._http.post("/v1/leaderboards", json=body, headers=self.admin)
            response.raise_for_status()
        for _ in range(submitters):
            self.players.append(await self._sign_in(f"soak-device-{uuid.uuid4()}"))

    async def _sign_in(self, device_id: str) -> Player:
        response = await self._http.post("/v1/auth/device", json={"device_id": device_id})
        response.raise_for_status()
        body = response.json()
        return Player(body["player_id"], device_id, body["token"])

    async def aclose(self) -> None:
        await self._http.aclose()

    def tasks(
        self, readers: int, sse: int, websockets: int, pace_s: float
    ) -> list[asyncio.Task[None]]:
        work = [self._submitter(i, pace_s) for i in range(len(self.players))]
        work += [self._reader(pace_s / 2) for _ in range(readers)]
        work += [self._sse(self.boards[i % len(self.boards)]) for i in range(sse)]
        work += [self._websocket(self.boards[i % len(self.boards)]) for i in range(websockets)]
        return [asyncio.create_task(w) for w in work]

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)

    async def _submitter(self, index: int, pace_s: float) -> None:
        """One player, with their own session, submitting to random boards."""
        while not self.stop.is_set():
            player = self.players[index]
            board = self._rng.choice(self.boards)
            score = self._score()
            status = 0
            with contextlib.suppress(httpx.HTTPError):
                response = await self._http.post(
                    f"/v1/leaderboards/{board}/scores",
                    json={"score": score},
                    headers={
                        "Authorization": f"Bearer {player.token}",
                        "Idempotency-Key": uuid.uuid4().hex,
                    },
                )
                status = response.status_code
            self.tally.submissions[status] += 1
            if status == 200:
                self.tally.acknowledged.append((board, player.player_id, score))
            elif status == 401:  # the session was lost (Redis lost it): sign in again
                with contextlib.suppress(httpx.HTTPError):
                    self.players[index] = await self._sign_in(player.device_id)
                    self.tally.signed_in_again += 1
            await self._pause(pace_s * self._rng.uniform(0.5, 1.5))

    def _score(self) -> int:
        """Half the submissions beat every earlier one (a new best: an event), half do not.

        With random scores alone, new bests (the only submissions that publish events)
        grow rare as the run goes on, and a quiet event stream would prove nothing.
        """
        now = int((time.monotonic() - self.tally.started) * 1000) * 1000
        if self._rng.random() < 0.5:
            return now + self._rng.randrange(1000)
        return self._rng.randrange(max(1, now))

    async def _reader(self, pace_s: float) -> None:
        while not self.stop.is_set():
            board = self._rng.choice(self.boards)
            if self._rng.random() < 0.5 or not self.tally.acknowledged:
                path = f"/v1/leaderboards/{board}/top?limit=50"
            else:
                player = self._rng.choice(self.players).player_id
                path = f"/v1/leaderboards/{board}/players/{player}/around?radius=5"
            status = 0
            with contextlib.suppress(httpx.HTTPError):
                status = (await self._http.get(path)).status_code
            self.tally.reads[status] += 1
            await self._pause(pace_s * self._rng.uniform(0.5, 1.5))

    async def _sse(self, board: str) -> None:
        """An SSE client that reconnects (with Last-Event-ID) whenever its stream ends."""
        last_id: str | None = None
        while not self.stop.is_set():
            headers = {"Last-Event-ID": last_id} if last_id else {}
            try:
                async with self._http.stream(
                    "GET", f"/v1/leaderboards/{board}/events", headers=headers, timeout=30
                ) as response:
                    async for line in response.aiter_lines():
                        if self.stop.is_set():
                            return
                        if line.startswith("id:"):
                            last_id = line[3:].strip()
                        elif line.startswith("data:"):
                            self.tally.events_by_minute[self.tally.minute()] += 1
            except httpx.HTTPError:
                pass
            self.tally.stream_reconnects["sse"] += 1
            await self._pause(1.0)

    async def _websocket(self, board: str) -> None:
        url = self.base.replace("http://", "ws://") + f"/v1/leaderboards/{board}/ws"
        while not self.stop.is_set():
            try:
                async with ws_connect(url, open_timeout=10) as socket:
                    while not self.stop.is_set():
                        with contextlib.suppress(TimeoutError):
                            message = await asyncio.wait_for(socket.recv(), 1.0)
                            kind = msgspec.json.decode(message).get("type")
                            if kind not in ("subscribed", "heartbeat"):
                                self.tally.events_by_minute[self.tally.minute()] += 1
            except (OSError, WebSocketException, TimeoutError):
                pass
            self.tally.stream_reconnects["websocket"] += 1
            await self._pause(1.0)

    async def served_ranking(self, board: str) -> list[tuple[str, int]] | None:
        """The board's whole ranking as the service serves it (None: not answered)."""
        try:
            response = await self._http.get(f"/v1/leaderboards/{board}/top?limit=1000")
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        return [(e["player_id"], e["score"]) for e in response.json()["entries"]]
