"""The fan-out's subscribers: WebSocket clients of one board, in a process of their own.

``python -m bench.fanout_subscribers URL N`` opens N connections to URL
(``ws://…/v1/leaderboards/{id}/ws``) with the ``websockets`` library, offering
permessage-deflate as browsers do (``client_max_window_bits``), waits for every
``{"type":"subscribed"}``, prints ``READY <seconds> <Sec-WebSocket-Extensions>`` and
then obeys one command per line on stdin:

- ``COLLECT <submissions> <out> <quiet>``: ``<submissions>`` lists a step's accepted
  submissions, one per line: ``<score> <sent> <answered>`` (``time.monotonic()`` of the
  submitter: one clock for every process of this machine). Wait until every subscriber
  has an event for each, or until ``<quiet>`` seconds pass without any event; write the
  step's counts to ``<out>.json`` and each delivery's delay (received - answered, and
  received - sent, seconds) to ``<out>.answered`` / ``<out>.sent`` (array of doubles);
  print ``DONE``; forget the step's events.
- ``QUIT``: close every connection and exit.

Every submission of the fan-out has a score of its own, so an event's ``score`` names it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from array import array
from pathlib import Path

import msgspec
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

CONNECT_AT_ONCE = 50


class Event(msgspec.Struct):
    type: str
    score: int | None = None
    dropped: int = 0


class Subscriber:
    """One connection's events of the current step: scores and when each arrived."""

    def __init__(self) -> None:
        self.scores: array[int] = array("q")
        self.times: array[float] = array("d")
        self.dropped = 0
        self.closed = False


class Subscribers:
    def __init__(self, url: str, n: int) -> None:
        self.url, self.n = url, n
        self.subs = [Subscriber() for _ in range(n)]
        self.sockets: list[ClientConnection] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.last_event = time.monotonic()
        self.extensions = ""
        self._decode = msgspec.json.Decoder(Event).decode

    async def _open(self, i: int) -> None:
        ws = await connect(
            self.url,
            compression=None,  # the extension below, as a browser offers it
            extensions=[ClientPerMessageDeflateFactory(client_max_window_bits=True)],
            max_queue=None,  # read everything, as a browser does; no back-pressure
            open_timeout=60,
        )
        first = self._decode(await asyncio.wait_for(ws.recv(), 60))
        if first.type != "subscribed":
            raise RuntimeError(f"subscriber {i}: first message {first.type!r}")
        if i == 0 and ws.response is not None:
            self.extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        self.sockets.append(ws)
        self.tasks.append(asyncio.create_task(self._listen(ws, self.subs[i])))

    async def connect(self) -> None:
        for lo in range(0, self.n, CONNECT_AT_ONCE):
            await asyncio.gather(
                *(self._open(i) for i in range(lo, min(self.n, lo + CONNECT_AT_ONCE)))
            )

    async def _listen(self, ws: ClientConnection, sub: Subscriber) -> None:
        decode = self._decode
        try:
            async for message in ws:
                now = time.monotonic()
                event = decode(message)
                if event.type == "rank_changed" and event.score is not None:
                    sub.scores.append(event.score)
                    sub.times.append(now)
                    self.last_event = now
                elif event.type == "events_dropped":
                    sub.dropped += event.dropped
        except ConnectionClosed:
            pass
        sub.closed = True

    async def collect(self, submissions: Path, out: Path, quiet: float) -> None:
        sent: dict[int, float] = {}
        answered: dict[int, float] = {}
        for line in submissions.read_text().splitlines():
            key, sent_at, answered_at = line.split()
            sent[int(key)], answered[int(key)] = float(sent_at), float(answered_at)
        want = len(sent)
        asked = time.monotonic()
        while any(len(s.scores) < want and not s.closed for s in self.subs):
            if time.monotonic() - max(self.last_event, asked) > quiet:
                break
            await asyncio.sleep(0.05)
        from_answered, from_sent = array("d"), array("d")
        counts = {"delivered": 0, "missing": 0, "duplicates": 0, "unexpected": 0}
        first, last = float("inf"), 0.0
        for sub in self.subs:
            seen: set[int] = set()
            for score, t in zip(sub.scores, sub.times, strict=True):
                if score not in sent:
                    counts["unexpected"] += 1
                    continue
                if score in seen:
                    counts["duplicates"] += 1
                    continue
                seen.add(score)
                from_answered.append(t - answered[score])
                from_sent.append(t - sent[score])
                first, last = min(first, t), max(last, t)
            counts["delivered"] += len(seen)
            counts["missing"] += want - len(seen)
        result = {
            **counts,
            "dropped": sum(s.dropped for s in self.subs),
            "closed": sum(s.closed for s in self.subs),
            "first_receipt": first if from_sent else None,
            "last_receipt": last if from_sent else None,
        }
        out.with_suffix(".json").write_text(json.dumps(result))
        with out.with_suffix(".answered").open("wb") as f:
            from_answered.tofile(f)
        with out.with_suffix(".sent").open("wb") as f:
            from_sent.tofile(f)
        for sub in self.subs:
            sub.scores, sub.times, sub.dropped = array("q"), array("d"), 0

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def main(url: str, n: int) -> None:
    subs = Subscribers(url, n)
    t0 = time.monotonic()
    await subs.connect()
    print(f"READY {time.monotonic() - t0:.3f} {subs.extensions}", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).split()
        if not line or line[0] == "QUIT":
            break
        if line[0] == "COLLECT":
            await subs.collect(Path(line[1]), Path(line[2]), float(line[3]))
            print("DONE", flush=True)
    await subs.close()


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1], int(sys.argv[2])))
