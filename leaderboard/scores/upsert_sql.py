"""The statement that group-commits submissions (writer.py says what it guarantees).

One statement per (operator, order): it applies the board's operator to many players'
stored scores at once. Its input is a column of arrays per field of :class:`UpsertRow`,
by name: the statement's parameter list and the names it reads them by are both made
from the row's fields, so a caller cannot pass one array in another's place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import msgspec

from leaderboard.boards.models import Operator, Order


class UpsertRow(msgspec.Struct, frozen=True, kw_only=True):
    """One submission, as the statement takes it (``upsert_arrays`` of many).

    Made by keyword only; a msgspec Struct because it is made per submission (~0.6 µs,
    against ~2 µs for a NamedTuple by keyword).
    """

    board: str
    period: date
    player: str
    submitted: int
    """The submitted value (the operator makes the stored score of it)."""
    metadata: str | None = None
    """JSON text; None keeps the row's."""
    drawn_seq: int | None = None
    """A sequence number drawn before the statement (a batch in rounds); None: draw one."""
    idempotency_key: str | None = None
    request_hash: bytes | None = None
    max_submissions: int | None = None
    actor: str | None = None
    """The admin or server key submitting for the player: audited; None: the player."""
    request_id: str | None = None
    ledger: bool = False
    """Keep the submission in the ledger (``submissions``): the board has one, and the
    submission is not an approval (whose ledger row is there already)."""
    evidence_url: str | None = None
    span: int = 0
    """The row's span (its position in the board's spans, ``scores.span``): 0, the primary
    row, written as a submission always was; above 0, a secondary span's row of the same
    submission, written only where its primary row is (``parent``)."""
    parent: int = 0
    """A secondary span's row: the 1-based position of its primary row in the arrays."""


# Each field's Postgres type, in the row's order: the statement's $1 … $15.
_TYPES = {
    "board": "text",
    "period": "date",
    "player": "text",
    "submitted": "bigint",
    "metadata": "text",
    "drawn_seq": "bigint",
    "idempotency_key": "text",
    "request_hash": "bytea",
    "max_submissions": "int",
    "actor": "text",
    "request_id": "text",
    "ledger": "bool",
    "evidence_url": "text",
    "span": "smallint",
    "parent": "int",
}
FIELDS = UpsertRow.__struct_fields__
assert tuple(_TYPES) == FIELDS
_UNNEST = ", ".join(f"${n}::{_TYPES[name]}[]" for n, name in enumerate(FIELDS, 1))
_NAMES = ", ".join(FIELDS)


def upsert_arrays(rows: Sequence[UpsertRow]) -> list[list[Any]]:
    """The statement's parameters: one array per field of the rows, in the fields' order."""
    if not rows:
        return [[] for _ in FIELDS]
    return [list(column) for column in zip(*map(msgspec.structs.astuple, rows), strict=True)]


def _new_score(operator: Operator, order: Order) -> str:
    """SQL for the stored score after a submission (``s`` the row, ``EXCLUDED`` the new)."""
    if operator == "latest":
        return "EXCLUDED.score"
    if operator == "sum":
        return "s.score + EXCLUDED.score"
    return f"{'GREATEST' if order == 'desc' else 'LEAST'}(s.score, EXCLUDED.score)"


def upsert_sql(operator: Operator, order: Order) -> str:
    new = _new_score(operator, order)
    # reached_seq/reached_at move only when the stored score changes: an equal `best`,
    # an equal `latest` or a `sum` of 0 keeps the player where they are.
    # Sequence numbers are drawn in arrival order (`i`, before any lock, or all of a
    # batch's beforehand when it runs in rounds: drawn_seq), so equal scores reached in
    # one batch rank in the order they arrived. An update keeps its number
    # only if it is above the row's: a submission that waited for the row lock of a
    # concurrent one that drew later must get a larger number, drawn under the lock, or
    # the index would refuse its (newer) change as older.
    # Rows are written in key order (the deadlock rule above).
    # Refused without a write: a banned player; a keyed repeat (its key is there, or a
    # concurrent first attempt's key commits first: `keyed`); a player at the board's
    # max_submissions (`limited` spares the key; the ON CONFLICT condition, under the row
    # lock, is what makes the count exact under concurrency).
    # The admin's and server keys' submissions are audited by the same statement, and
    # every accepted submission of a board with a ledger goes into it (`ledgered`), so
    # that a void can recompute the stored score from what the ledger holds.
    # A row is new when it has no previous score: the usual `xmax = 0` is refused in
    # RETURNING from a partitioned table, the layout docs/postgres.md stages.
    update = f"""score = {new},
                previous_score = s.score,
                reached_seq = CASE WHEN {new} = s.score THEN s.reached_seq
                                   WHEN EXCLUDED.reached_seq > s.reached_seq
                                   THEN EXCLUDED.reached_seq
                                   ELSE nextval('score_reached_seq') END,
                reached_at = CASE WHEN {new} <> s.score
                                  THEN EXCLUDED.reached_at ELSE s.reached_at END,
                submissions = s.submissions + 1,
                metadata = COALESCE(EXCLUDED.metadata, s.metadata),
                updated_at = now()"""
    return f"""
        WITH i AS MATERIALIZED (
            SELECT t.*,
                   CASE WHEN t.span = 0
                        THEN COALESCE(t.drawn_seq, nextval('score_reached_seq')) END AS seq,
                   t.span = 0 AND EXISTS (SELECT 1 FROM players pl
                            WHERE pl.id = t.player::uuid AND pl.banned_at IS NOT NULL)
                       AS banned,
                   -- a segmented board's country index takes the entry too (ranking/)
                   CASE WHEN t.span = 0 THEN (SELECT pl.country FROM players pl
                                               WHERE pl.id = t.player::uuid) END
                       AS country,
                   t.max_submissions IS NOT NULL AND EXISTS (
                       SELECT 1 FROM scores c
                        WHERE c.leaderboard_id = t.board AND c.span = 0
                          AND c.period_start = t.period AND c.player_id = t.player::uuid
                          AND c.submissions >= t.max_submissions) AS limited,
                   CASE WHEN t.ledger THEN (SELECT l.ledger_key FROM leaderboards l
                                             WHERE l.id = t.board) END AS board_key
              FROM unnest({_UNNEST}) WITH ORDINALITY AS t({_NAMES}, n)
        ),
        keyed AS (
            INSERT INTO idempotency_keys
                (leaderboard_id, player_id, key, request_hash, period_start)
            SELECT i.board, i.player::uuid, i.idempotency_key, i.request_hash, i.period FROM i
             WHERE i.idempotency_key IS NOT NULL AND NOT i.banned AND NOT i.limited
             ORDER BY i.board, i.player, i.idempotency_key
            ON CONFLICT DO NOTHING
            RETURNING leaderboard_id, player_id, key
        ),
        w AS (
            INSERT INTO scores AS s
                (leaderboard_id, period_start, player_id, score, reached_seq, reached_at,
                 metadata)
            SELECT i.board, i.period, i.player::uuid, i.submitted, i.seq, now(),
                   i.metadata::jsonb
              FROM i
             WHERE i.span = 0 AND NOT i.banned AND (i.idempotency_key IS NULL OR EXISTS (
                   SELECT 1 FROM keyed
                    WHERE keyed.leaderboard_id = i.board AND keyed.player_id = i.player::uuid
                      AND keyed.key = i.idempotency_key))
             ORDER BY i.board, i.period, i.player
            ON CONFLICT (leaderboard_id, span, period_start, player_id) DO UPDATE SET
                {update}
            WHERE NOT EXISTS (
                  SELECT 1 FROM leaderboards l
                   WHERE l.id = s.leaderboard_id AND s.submissions >= l.max_submissions)
            RETURNING leaderboard_id, span, period_start, player_id, score, reached_seq,
                      previous_score, previous_score IS NULL AS inserted
        ),
        -- A board's other spans (D-041): each written submission's rows there, by the
        -- same statement (one record), with its primary row's sequence number; after the
        -- primary rows (all statements lock in this order). No max_submissions there: it
        -- counts a primary period's submissions, and its primary row was written.
        w2 AS (
            INSERT INTO scores AS s
                (leaderboard_id, span, period_start, player_id, score, reached_seq,
                 reached_at, metadata)
            SELECT i.board, i.span, i.period, i.player::uuid, i.submitted, p.seq, now(),
                   i.metadata::jsonb
              FROM i JOIN i p ON p.n = i.parent
              JOIN w ON w.leaderboard_id = p.board AND w.period_start = p.period
                    AND w.player_id = p.player::uuid
             WHERE i.span > 0
             ORDER BY i.board, i.span, i.period, i.player
            ON CONFLICT (leaderboard_id, span, period_start, player_id) DO UPDATE SET
                {update}
            RETURNING leaderboard_id, span, period_start, player_id, score, reached_seq,
                      previous_score, previous_score IS NULL AS inserted
        ),
        written AS (SELECT * FROM w UNION ALL SELECT * FROM w2),
        audited AS (
            INSERT INTO audit_log (actor, action, target, request_id, details)
            SELECT i.actor, 'score.submit', 'leaderboard:' || w.leaderboard_id || '/player:'
                   || w.player_id, i.request_id,
                   jsonb_build_object('submitted', i.submitted, 'score', w.score,
                                      -- null on boards that never reset, as the API
                                      -- says (periods.ALL_TIME is their stored date)
                                      'period', NULLIF(w.period_start, DATE '1970-01-01'))
              FROM w JOIN i ON w.leaderboard_id = i.board AND w.period_start = i.period
                           AND w.player_id = i.player::uuid AND i.span = 0
             WHERE i.actor IS NOT NULL
        ),
        ledgered AS (
            INSERT INTO submissions (score, player_id, period_start, board_key, details)
            SELECT i.submitted, w.player_id, w.period_start, i.board_key,
                   CASE WHEN i.metadata IS NOT NULL OR i.evidence_url IS NOT NULL
                        THEN jsonb_build_object('metadata', i.metadata::jsonb,
                                                'evidence_url', i.evidence_url) END
              FROM w JOIN i ON w.leaderboard_id = i.board AND w.period_start = i.period
                           AND w.player_id = i.player::uuid AND i.span = 0
             WHERE i.board_key IS NOT NULL
            RETURNING id, board_key, period_start, player_id
        )
        SELECT i.n, i.span, i.period, i.banned, i.country, w.score, w.reached_seq, w.previous_score,
               w.inserted,
               (SELECT g.id FROM ledgered g
                 WHERE g.board_key = i.board_key AND g.period_start = i.period
                   AND g.player_id = i.player::uuid) AS submission_id,
               w.score IS NULL AND i.idempotency_key IS NOT NULL AND NOT i.banned
                   AND NOT i.limited AND NOT EXISTS (
                       SELECT 1 FROM keyed
                        WHERE keyed.leaderboard_id = i.board
                          AND keyed.player_id = i.player::uuid
                          AND keyed.key = i.idempotency_key) AS repeated
          FROM i LEFT JOIN written w
                 ON w.leaderboard_id = i.board AND w.span = i.span
                AND w.period_start = i.period AND w.player_id = i.player::uuid
         ORDER BY i.n
    """


UPSERTS = {
    (operator, order): upsert_sql(operator, order)
    for operator in ("best", "latest", "sum")
    for order in ("desc", "asc")
}
