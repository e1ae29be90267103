"""The fan-out's submitter: paced submissions as signed-in players, in a process of its own.

``python -m bench.fanout_submitter BASE BOARD TOKENS RATE SECONDS SCORE_BASE OUT`` sends
``RATE * SECONDS`` submissions on a fixed schedule (the i-th at ``start + i / RATE``,
whatever the answers before it: an open loop, so a slow answer does not delay the next
send), as the players of ``TOKENS`` (one session token per line, shuffled) in turn, with
the score ``SCORE_BASE + i``: above every stored one, so each changes its player's best
and is announced once, and no two share a score (the subscribers match events to
submissions by it). Keep-alive connections are reused; a new one opens when all are busy.

Writes the accepted submissions that changed a best (all of them, unless one player's
two overtook each other) to ``OUT`` (``<score> <sent> <answered>`` per line,
``time.monotonic()``) and prints one JSON line: counts, latencies from the send and from
the schedule, and this process' own CPU seconds.

HTTP/1.1 by hand over asyncio streams (a request line, four headers, a body; answers
with a Content-Length, as uvicorn sends them): the submitter shares the machine's two
cores with the service, and an HTTP client library would cost it several times more CPU.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import uvloop

from bench.percentiles import latency

MAX_CONNECTIONS = 256


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def post(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        """Send one request; the answer's status and body."""
        self.writer.write(head + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)


class Submitter:
    def __init__(self, base: str, board: str, tokens: list[str]) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = f"/v1/leaderboards/{board}/scores"
        self.tokens = tokens
        self.idle: list[Connection] = []
        self.opened = 0
        self.accepted = 0  # answered 200
        self.announced: list[tuple[int, float, float]] = []  # score, sent, answered
        self.from_sent: list[float] = []
        self.from_schedule: list[float] = []
        self.errors = 0
        self.unchanged = 0
        self.submitted = 0
        random.shuffle(self.tokens)

    async def _connection(self) -> Connection:
        if self.idle:
            return self.idle.pop()
        while self.opened >= MAX_CONNECTIONS:
            await asyncio.sleep(0.001)
            if self.idle:
                return self.idle.pop()
        self.opened += 1
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return Connection(reader, writer)

    async def submit(self, i: int, score: int, scheduled: float) -> None:
        body = f'{{"score":{score}}}'.encode()
        # The players in turn (shuffled once): no player has two submissions in flight
        # unless more are in flight than there are players, so none overtakes its own
        # later one (which would then leave the best as it was, and announce nothing).
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {self.tokens[i % len(self.tokens)]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        conn = await self._connection()
        sent = time.monotonic()
        try:
            status, answer = await conn.post(head, body)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            self.errors += 1
            self.opened -= 1
            conn.writer.close()
            return
        answered = time.monotonic()
        self.idle.append(conn)
        if status != 200:
            self.errors += 1
            return
        self.accepted += 1
        self.from_sent.append(answered - sent)
        self.from_schedule.append(answered - scheduled)
        if b'"changed":true' in answer:
            self.announced.append((score, sent, answered))
        else:
            self.unchanged += 1  # accepted, announced nothing: no event to expect

    async def run(self, rate: float, seconds: float, score_base: int) -> None:
        n = self.submitted = max(1, round(rate * seconds))
        start = time.monotonic() + 0.05
        tasks = []
        for i in range(n):
            at = start + i / rate
            if (wait := at - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(self.submit(i, score_base + i, at)))
        await asyncio.gather(*tasks)
        for conn in self.idle:
            conn.writer.close()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(argv: list[str]) -> None:
    base, board, tokens_file, rate, seconds, score_base, out = argv
    tokens = [t for t in Path(tokens_file).read_text().split() if t]
    sub = Submitter(base, board, tokens)
    cpu_before = _cpu()
    await sub.run(float(rate), float(seconds), int(score_base))
    cpu = _cpu() - cpu_before  # the run's, not the interpreter's start
    Path(out).write_text("".join(f"{s} {t0:.6f} {t1:.6f}\n" for s, t0, t1 in sub.announced))
    first = min((t0 for _, t0, _ in sub.announced), default=0.0)
    last = max((t1 for _, _, t1 in sub.announced), default=0.0)
    print(
        json.dumps(
            {
                "submitted": sub.submitted,
                "accepted": sub.accepted,
                "announced": len(sub.announced),
                "errors": sub.errors,
                "unchanged": sub.unchanged,
                "connections": sub.opened,
                "first_sent": first,
                "last_answered": last,
                "from_sent": latency(sub.from_sent),
                "from_schedule": latency(sub.from_schedule),
                "cpu_s": cpu,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1:]))
