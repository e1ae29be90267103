"""Preload the benchmark boards: COPY into Postgres, pipelined ZADD/HSET into Redis.

Players are a deterministic function of their index ``i`` (so nothing has to be kept in
memory or read back):

- ``device_hash`` = SHA-256 of ``i`` (8 bytes, big-endian): 32 bytes, unique.
- ``id``: a UUIDv7-shaped id whose first 32 bits are ``i`` (time-ordered, like the ids many
  services mint) and whose other bits come from the hash. Ordered ids keep the btree
  inserts of the bulk load sequential; nothing the benchmark measures depends on it.
- a board of N players holds players 0 … N-1, so the boards share one ``players`` table.
- ``score`` = 30 bits of the hash (xor a per-board salt) mod 10^9; desc boards, ``best``.

The Redis index is written exactly as the service writes it (``member_for`` /
``to_redis_score`` from the package, via bench/package.py; key names from ``Keys.index``),
then the ``ready`` marker is set. bench/preload.py checks one board against the service's
own ``leaderboard rebuild``.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import asyncpg
from redis.asyncio import Redis

from bench.package import (
    LANE1_PRIME,
    LANE2_PRIME,
    Digest,
    IndexKeys,
    Keys,
    member_for,
    to_redis_score,
)
from bench.records import LoadTimings

PERIOD = "1970-01-01"  # period_start of boards that never reset
PERIOD_KEY = "all"
CHUNK = 100_000
REDIS_BATCH = 5_000  # members per ZADD/HSET: keeps each command short on a shared Redis
REACHED_AT = "2026-01-01 00:00:00+00"
_VARIANT = "89ab"


def player(i: int) -> tuple[str, bytes]:
    """(player id, device hash) of player ``i``."""
    digest = hashlib.sha256(i.to_bytes(8, "big")).digest()
    x = digest.hex()
    pid = f"{i:08x}-{x[0:4]}-7{x[4:7]}-{_VARIANT[int(x[7], 16) & 3]}{x[8:11]}-{x[11:23]}"
    return pid, digest


def score_of(digest: bytes, salt: int) -> int:
    return ((int.from_bytes(digest[24:28], "big") >> 2) ^ salt) % 1_000_000_000


def label(size: int) -> str:
    for unit, div in (("m", 1_000_000), ("k", 1_000)):
        if size >= div and size % div == 0:
            return f"{size // div}{unit}"
    return str(size)


@dataclass
class Board:
    size: int
    id: str
    salt: int
    keys: IndexKeys
    sample: list[int] = field(default_factory=list)  # player indices used by the load tests
    sample_ids: list[str] = field(default_factory=list)
    sample_scores: list[int] = field(default_factory=list)


def make_boards(sizes: list[int], keys: Keys, samples: int, seed: int = 8) -> list[Board]:
    rng = random.Random(seed)
    boards = []
    for n, size in enumerate(sorted(sizes)):
        board_id = f"bench-{label(size)}"
        b = Board(
            size,
            board_id,
            salt=(n + 1) * 0x9E3779B1 & 0x3FFFFFFF,
            keys=keys.index(board_id, PERIOD_KEY),
        )
        b.sample = sorted(rng.sample(range(size), min(samples, size)))
        for i in b.sample:
            pid, digest = player(i)
            b.sample_ids.append(pid)
            b.sample_scores.append(score_of(digest, b.salt))
        boards.append(b)
    return boards


def _bulk(cmd: str, key: str, pairs: list[tuple[str, str]]) -> str:
    """One RESP command ``cmd key a1 b1 a2 b2 …`` (every argument ASCII)."""
    head = f"*{2 + 2 * len(pairs)}\r\n${len(cmd)}\r\n{cmd}\r\n${len(key)}\r\n{key}\r\n"
    return head + "".join(f"${len(a)}\r\n{a}\r\n${len(b)}\r\n{b}\r\n" for a, b in pairs)


def _chunk_rows(
    lo: int, hi: int, boards: list[Board], seq0: int, scratch: str
) -> tuple[bytes, bytes, bytes, int, int]:
    """COPY text for players and scores of [lo, hi), and the Redis commands (RESP) for them.

    Per board and batch of players: ZADD of the index (``member_for`` → ``to_redis_score``),
    HSET of the members hash (player id → the member's sequence part), ZADD of the bare
    sorted set (player id → the same score) that the index's memory is compared with, and
    ZADD of the index's distinct scores.
    """
    players = []
    scores = []
    entries: dict[str, list[tuple[str, str, str]]] = {b.id: [] for b in boards}
    seq = seq0
    live = [b for b in boards if b.size > lo]
    for i in range(lo, hi):
        pid, digest = player(i)
        players.append(f"{pid}\t\\\\x{digest.hex()}\tbench-{i}\n")
        for b in live:
            if i >= b.size:
                continue
            seq += 1
            s = score_of(digest, b.salt)
            scores.append(f"{b.id}\t{PERIOD}\t{pid}\t{s}\t{seq}\t{REACHED_AT}\n")
            entries[b.id].append((pid, member_for(seq, pid), str(to_redis_score(s, "desc"))))
    resp = []
    commands = 0
    for b in live:
        rows = entries[b.id]
        for k in range(0, len(rows), REDIS_BATCH):
            part = rows[k : k + REDIS_BATCH]
            resp.append(_bulk("ZADD", b.keys.scores, [(rs, m) for _, m, rs in part]))
            resp.append(_bulk("HSET", b.keys.members, [(p, m[:16]) for p, m, _ in part]))
            resp.append(_bulk("ZADD", f"{scratch}{b.id}", [(rs, p) for p, _, rs in part]))
            # The distinct scores (dense ranks): member and score both the Redis score.
            distinct = dict.fromkeys(rs for _, _, rs in part)
            resp.append(_bulk("ZADD", b.keys.distinct, [(rs, rs) for rs in distinct]))
            commands += 4
    return (
        "".join(players).encode(),
        "".join(scores).encode(),
        "".join(resp).encode(),
        commands,
        seq,
    )


class RawRedis:
    """A plain connection for the bulk load (like ``redis-cli --pipe``): pre-encoded RESP."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.db = str(int(parts.path.strip("/") or 0))

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        await self.send(f"*2\r\n$6\r\nSELECT\r\n${len(self.db)}\r\n{self.db}\r\n".encode(), 1)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()

    async def send(self, data: bytes, replies: int) -> None:
        self.writer.write(data)
        await self.writer.drain()
        for _ in range(replies):
            line = await self.reader.readline()
            if line.startswith(b"-"):
                raise RuntimeError(f"Redis: {line.decode().strip()}")


async def preload(
    database_url: str,
    redis_url: str,
    redis: Redis,
    boards: list[Board],
    progress: Callable[[int], None],
    scratch_prefix: str,
) -> LoadTimings:
    """Create the boards and fill Postgres and Redis; returns timings in seconds."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    conn = await asyncpg.connect(database_url)
    raw = RawRedis(redis_url)
    await raw.open()
    try:
        # Bulk load: skip the foreign-key triggers of this session's COPYs (the rows are
        # consistent by construction), as pg_restore does.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET synchronous_commit = off")
        for b in boards:
            await conn.execute(
                """
                INSERT INTO leaderboards
                    (id, name, sort_order, operator, reset, rate_limit, rate_window_seconds)
                VALUES ($1, $1, 'desc', 'best', 'never', 10000, 1)
                """,
                b.id,
            )
            await redis.delete(
                b.keys.scores,
                b.keys.members,
                b.keys.ready,
                b.keys.distinct,
                b.keys.digest,
                f"{scratch_prefix}{b.id}",
            )
        total = max(b.size for b in boards)
        seq = 0
        pg_task: asyncio.Task[None] | None = None

        async def copy(players: bytes, scores: bytes) -> None:
            await conn.copy_to_table(
                "players",
                source=io.BytesIO(players),
                columns=["id", "device_hash", "display_name"],
                format="text",
            )
            await conn.copy_to_table(
                "scores",
                source=io.BytesIO(scores),
                columns=[
                    "leaderboard_id",
                    "period_start",
                    "player_id",
                    "score",
                    "reached_seq",
                    "reached_at",
                ],
                format="text",
            )

        for lo in range(0, total, CHUNK):
            hi = min(total, lo + CHUNK)
            # Generate in a thread so the loop keeps streaming the previous chunk's COPY.
            players, scores, resp, commands, seq = await asyncio.to_thread(
                _chunk_rows, lo, hi, boards, seq, scratch_prefix
            )
            if pg_task is not None:
                await pg_task
            pg_task = asyncio.create_task(copy(players, scores))
            await raw.send(resp, commands)
            progress(hi - lo)
        if pg_task is not None:
            await pg_task
        t_copy = loop.time() - t0
        await conn.execute("SELECT setval('score_reached_seq', $1)", seq)
        # The COPYs ran without triggers (replica role), so the digests the triggers
        # would have noted are made here, on both sides, as the migration makes them.
        await _digests(conn, redis, boards)
        for b in boards:
            await redis.set(b.keys.ready, "1")
        t_load = loop.time() - t0
        # After a bulk load autovacuum would otherwise start in the middle of the load
        # tests (2 cores); VACUUM now also gives Postgres-only ranks their index-only scans.
        await conn.execute("SET session_replication_role = DEFAULT")
        await conn.execute("VACUUM (ANALYZE) players")
        await conn.execute("VACUUM (ANALYZE) scores")
        return {
            "load_s": t_load,
            "copy_s": t_copy,
            "vacuum_s": loop.time() - t0 - t_load,
            "rows": seq,
        }
    finally:
        await raw.close()
        await conn.close()


async def _digests(conn: asyncpg.Connection, redis: Redis, boards: list[Board]) -> None:
    """Each board's bucket digests into score_digests and into its index's digest hash."""
    rows = await conn.fetch(
        f"""
        INSERT INTO score_digests
        SELECT s.leaderboard_id, s.period_start, d.bucket, count(*),
               sum(d.lane1) % {LANE1_PRIME}, sum(d.lane2) % {LANE2_PRIME}, sum(d.id0),
               sum(d.id1), sum(d.id2), sum(d.id3), sum(d.id4), sum(d.id5), sum(d.id6)
          FROM scores s, LATERAL score_entry_digest(s.player_id, -s.score, s.reached_seq) d
         WHERE s.leaderboard_id = ANY($1::text[])
         GROUP BY 1, 2, 3
        RETURNING leaderboard_id, bucket, entries, lane1, lane2, id0, id1, id2, id3, id4, id5,
                  id6
        """,
        [b.id for b in boards],
    )
    by_board: dict[str, dict[str, str]] = {b.id: {} for b in boards}
    for r in rows:
        digest = Digest.of(r["entries"], r["lane1"], r["lane2"], tuple(r[5:]))
        by_board[r["leaderboard_id"]][str(r["bucket"])] = digest.text()
    for b in boards:
        await redis.hset(b.keys.digest, mapping=cast("dict[Any, Any]", by_board[b.id]))


Snapshot = tuple[list[tuple[str, float]], dict[str, str]]


async def snapshot(redis: Redis, keys: IndexKeys) -> Snapshot:
    """An index's sorted set (members with scores) and members hash."""
    # The client decodes responses (decode_responses=True): members and fields are str.
    pairs = cast("list[tuple[str, float]]", await redis.zrange(keys.scores, 0, -1, withscores=True))
    hashed = await redis.hgetall(keys.members)
    return (
        [(str(m), float(s)) for m, s in pairs],
        {str(k): str(v) for k, v in hashed.items()},
    )
