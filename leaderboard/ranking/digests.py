"""Bucket digests of a board period's entries, on both sides, and what compares them.

A bucket is the first three hex digits of a player id (4096 buckets). A bucket's digest
(:class:`Digest`): its entry count, two hash lanes (sums modulo primes below 2^26 of a
hash of each entry's player id, Redis score and reached_seq) and seven sums of the player
ids' chunks (id_chunks). Postgres keeps them in ``score_digests`` (statement triggers append
deltas, :meth:`ScoreDigests.fold` folds them: db/migrations/0011_score_digests.sql);
the index keeps its own in the same scripts that change it (index_digest.lua). Equal
digests: equal entries (up to a 2^-52 chance per differing bucket). The index guard
compares all of them each round and looks at the entries of the few buckets that differ
(convergence.py), so finding a divergence costs the same on any board size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from asyncpg import Record

from leaderboard.boards.models import Board
from leaderboard.lib.db import Database
from leaderboard.ranking.records import CheckedRow, checked_columns, checked_row

BUCKETS = 4096
LANE1_PRIME = 67108859
LANE2_PRIME = 67108837
# Only one worker folds at a time (the others skip the fold that round).
_FOLD_LOCK = 0x5C0D16E5


@dataclass(frozen=True, slots=True)
class Digest:
    entries: int
    lane1: int
    lane2: int
    ids: tuple[int, ...]
    """Sums of the entries' player id chunks (id_chunks)."""

    @classmethod
    def parse(cls, text: str | None) -> Digest:
        """From the index's form, ``"<entries> <lane1> <lane2> <id0> … <id6>"``."""
        if not text:
            return EMPTY
        values = [int(part) for part in text.split()]
        return cls(values[0], values[1], values[2], tuple(values[3:]))

    def text(self) -> str:
        return " ".join(str(v) for v in (self.entries, self.lane1, self.lane2, *self.ids))

    @classmethod
    def of(cls, entries: int, lane1: int, lane2: int, ids: tuple[int, ...]) -> Digest:
        return cls(entries, lane1 % LANE1_PRIME, lane2 % LANE2_PRIME, ids)


EMPTY = Digest(0, 0, 0, (0,) * 7)
# A player id's chunks: hex digits along its dashes (16 or 24 bits each).
_CHUNKS = ((0, 4), (4, 8), (9, 13), (14, 18), (19, 23), (24, 30), (30, 36))


def bucket_of(player_id: str) -> int:
    return int(player_id[:3], 16)


def id_chunks(player_id: str) -> tuple[int, ...]:
    """A player id's chunks, as the digests sum them."""
    return tuple(int(player_id[a:b], 16) for a, b in _CHUNKS)


def player_of_chunks(chunks: tuple[int, ...]) -> str | None:
    """The player id whose chunks these are; None when they are no id's."""
    widths = [b - a for a, b in _CHUNKS]
    if any(not 0 <= c < 16**w for c, w in zip(chunks, widths, strict=True)):
        return None
    x = "".join(f"{c:0{w}x}" for c, w in zip(chunks, widths, strict=True))
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def bucket_range(bucket: int) -> tuple[str, str]:
    """The first and last player id of a bucket: one range of the primary key."""
    head = f"{bucket:03x}"
    return f"{head}00000-0000-0000-0000-000000000000", f"{head}fffff-ffff-ffff-ffff-ffffffffffff"


_SUMS = (
    "sum(entries)::bigint, sum(lane1)::bigint, sum(lane2)::bigint, sum(id0)::bigint, "
    "sum(id1)::bigint, sum(id2)::bigint, sum(id3)::bigint, sum(id4)::bigint, sum(id5)::bigint, "
    "sum(id6)::bigint"
)
_COLUMNS = "entries, lane1, lane2, id0, id1, id2, id3, id4, id5, id6"


def _digest(row: Record, first: int = 1) -> Digest:
    values = [row[first + i] for i in range(10)]
    return Digest.of(values[0], values[1], values[2], tuple(values[3:]))


class ScoreDigests:
    """Postgres' side: score_digests and the deltas not yet folded into it."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def fold(self) -> bool:
        """Fold the writers' deltas into score_digests (False: another worker folds now).

        Buckets back to nothing go; deltas of a board deleted meanwhile are dropped.
        """
        async with self._db.transaction() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _FOLD_LOCK):
                return False
            await conn.execute(
                f"""
                WITH moved AS (DELETE FROM score_digest_deltas RETURNING *),
                summed AS (
                    -- span last: score_digests' column order (0015)
                    SELECT leaderboard_id, period_start, bucket, {_SUMS}, span
                      FROM moved GROUP BY leaderboard_id, period_start, bucket, span
                )
                INSERT INTO score_digests AS d
                SELECT s.* FROM summed s
                 WHERE EXISTS (SELECT 1 FROM leaderboards l WHERE l.id = s.leaderboard_id)
                 ORDER BY s.leaderboard_id, s.span, s.period_start, s.bucket
                ON CONFLICT (leaderboard_id, span, period_start, bucket) DO UPDATE SET
                    entries = d.entries + EXCLUDED.entries,
                    lane1 = ((d.lane1 + EXCLUDED.lane1) % {LANE1_PRIME} + {LANE1_PRIME})
                            % {LANE1_PRIME},
                    lane2 = ((d.lane2 + EXCLUDED.lane2) % {LANE2_PRIME} + {LANE2_PRIME})
                            % {LANE2_PRIME},
                    id0 = d.id0 + EXCLUDED.id0, id1 = d.id1 + EXCLUDED.id1,
                    id2 = d.id2 + EXCLUDED.id2, id3 = d.id3 + EXCLUDED.id3,
                    id4 = d.id4 + EXCLUDED.id4, id5 = d.id5 + EXCLUDED.id5,
                    id6 = d.id6 + EXCLUDED.id6
                """
            )
            await conn.execute(
                "DELETE FROM score_digests WHERE entries = 0 AND lane1 = 0 AND lane2 = 0"
                " AND id0 = 0 AND id1 = 0 AND id2 = 0 AND id3 = 0 AND id4 = 0 AND id5 = 0"
                " AND id6 = 0"
            )
        return True

    async def read(
        self, board: Board, period: date, buckets: list[int] | None = None
    ) -> dict[int, Digest]:
        """The period's digests (folded and not yet folded) of ``board``'s span (a view's).

        Of ``buckets``, or all. Each span's index has digests of its own.
        """
        rows = await self._db.fetch(
            f"""
            SELECT bucket, {_SUMS} FROM (
                SELECT bucket, {_COLUMNS} FROM score_digests
                 WHERE leaderboard_id = $1 AND span = $4 AND period_start = $2
                   AND ($3::int[] IS NULL OR bucket = ANY($3::int[]))
                UNION ALL
                SELECT bucket, {_COLUMNS} FROM score_digest_deltas
                 WHERE leaderboard_id = $1 AND span = $4 AND period_start = $2
                   AND ($3::int[] IS NULL OR bucket = ANY($3::int[]))
            ) AS both_sides
             GROUP BY bucket
            """,
            board.id,
            period,
            buckets,
            board.span_no,
        )
        read = {row[0]: _digest(row) for row in rows}
        return {bucket: digest for bucket, digest in read.items() if digest != EMPTY}

    async def bucket_rows(
        self, board: Board, period: date, bucket: int
    ) -> tuple[list[CheckedRow], Digest]:
        """A bucket's rows (one primary-key range), and the digest they make."""
        first, last = bucket_range(bucket)
        rows = await self._db.fetch(
            f"""
            SELECT {checked_columns("s")}, d.lane1, d.lane2
              FROM scores s,
                   LATERAL score_entry_digest(s.player_id, s.score * $5, s.reached_seq) d
             WHERE s.leaderboard_id = $1 AND s.span = $6 AND s.period_start = $2
               AND s.player_id BETWEEN $3::uuid AND $4::uuid AND NOT s.hidden
            """,
            board.id,
            period,
            first,
            last,
            -1 if board.order == "desc" else 1,
            board.span_no,
        )
        checked = [checked_row(row) for row in rows]
        chunks = [id_chunks(row.player_id) for row in checked]
        digest = Digest.of(
            len(rows),
            sum(row["lane1"] for row in rows),
            sum(row["lane2"] for row in rows),
            tuple(sum(c[i] for c in chunks) for i in range(7)),
        )
        return checked, digest
