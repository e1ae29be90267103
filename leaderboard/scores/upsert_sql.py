"""The statement that group-commits submissions (score_writer.py says what it guarantees).

One statement per (operator, order): it applies the board's operator to many players'
stored scores at once, from arrays ($1…$11, see score_writer._arrays).
"""

from __future__ import annotations

from leaderboard.boards.models import Operator, Order


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
    # batch's beforehand when it runs in rounds: $6), so equal scores reached in one batch
    # rank in the order they arrived. An update keeps its number
    # only if it is above the row's: a submission that waited for the row lock of a
    # concurrent one that drew later must get a larger number, drawn under the lock, or
    # the index would refuse its (newer) change as older.
    # Rows are written in key order (the deadlock rule above).
    # Refused without a write: a banned player; a keyed repeat (its key is there, or a
    # concurrent first attempt's key commits first: `keyed`); a player at the board's
    # max_submissions (`limited` spares the key; the ON CONFLICT condition, under the row
    # lock, is what makes the count exact under concurrency).
    # The admin's and server keys' submissions are audited by the same statement.
    # A row is new when it has no previous score: the usual `xmax = 0` is refused in
    # RETURNING from a partitioned table, the layout docs/postgres.md stages.
    return f"""
        WITH i AS MATERIALIZED (
            SELECT n, b, p, u, v, m, k, h, x, a, r,
                   COALESCE(q, nextval('score_reached_seq')) AS seq,
                   EXISTS (SELECT 1 FROM players pl
                            WHERE pl.id = u::uuid AND pl.banned_at IS NOT NULL) AS banned,
                   x IS NOT NULL AND EXISTS (
                       SELECT 1 FROM scores c
                        WHERE c.leaderboard_id = b AND c.period_start = p
                          AND c.player_id = u::uuid AND c.submissions >= x) AS limited
              FROM unnest($1::text[], $2::date[], $3::text[], $4::bigint[], $5::text[],
                          $6::bigint[], $7::text[], $8::bytea[], $9::int[], $10::text[],
                          $11::text[])
                   WITH ORDINALITY AS i(b, p, u, v, m, q, k, h, x, a, r, n)
        ),
        keyed AS (
            INSERT INTO idempotency_keys
                (leaderboard_id, player_id, key, request_hash, period_start)
            SELECT b, u::uuid, k, h, p FROM i
             WHERE k IS NOT NULL AND NOT banned AND NOT limited
             ORDER BY b, u, k
            ON CONFLICT DO NOTHING
            RETURNING leaderboard_id, player_id, key
        ),
        w AS (
            INSERT INTO scores AS s
                (leaderboard_id, period_start, player_id, score, reached_seq, reached_at,
                 metadata)
            SELECT b, p, u::uuid, v, seq, now(), m::jsonb FROM i
             WHERE NOT banned AND (k IS NULL OR EXISTS (
                   SELECT 1 FROM keyed
                    WHERE keyed.leaderboard_id = i.b AND keyed.player_id = i.u::uuid
                      AND keyed.key = i.k))
             ORDER BY b, p, u
            ON CONFLICT (leaderboard_id, period_start, player_id) DO UPDATE SET
                score = {new},
                previous_score = s.score,
                reached_seq = CASE WHEN {new} = s.score THEN s.reached_seq
                                   WHEN EXCLUDED.reached_seq > s.reached_seq
                                   THEN EXCLUDED.reached_seq
                                   ELSE nextval('score_reached_seq') END,
                reached_at = CASE WHEN {new} <> s.score
                                  THEN EXCLUDED.reached_at ELSE s.reached_at END,
                submissions = s.submissions + 1,
                metadata = COALESCE(EXCLUDED.metadata, s.metadata),
                updated_at = now()
            WHERE NOT EXISTS (
                  SELECT 1 FROM leaderboards l
                   WHERE l.id = s.leaderboard_id AND s.submissions >= l.max_submissions)
            RETURNING leaderboard_id, period_start, player_id, score, reached_seq,
                      previous_score, previous_score IS NULL AS inserted
        ),
        audited AS (
            INSERT INTO audit_log (actor, action, target, request_id, details)
            SELECT i.a, 'score.submit', 'leaderboard:' || w.leaderboard_id || '/player:'
                   || w.player_id, i.r,
                   jsonb_build_object('submitted', i.v, 'score', w.score,
                                      -- null on boards that never reset, as the API
                                      -- says (periods.ALL_TIME is their stored date)
                                      'period', NULLIF(w.period_start, DATE '1970-01-01'))
              FROM w JOIN i ON w.leaderboard_id = i.b AND w.period_start = i.p
                           AND w.player_id = i.u::uuid
             WHERE i.a IS NOT NULL
        )
        SELECT i.n, i.banned, w.score, w.reached_seq, w.previous_score, w.inserted,
               w.score IS NULL AND i.k IS NOT NULL AND NOT i.banned AND NOT i.limited
                   AND NOT EXISTS (
                       SELECT 1 FROM keyed
                        WHERE keyed.leaderboard_id = i.b AND keyed.player_id = i.u::uuid
                          AND keyed.key = i.k) AS repeated
          FROM i LEFT JOIN w ON w.leaderboard_id = i.b AND w.period_start = i.p
                            AND w.player_id = i.u::uuid
         ORDER BY i.n
    """


UPSERTS = {
    (operator, order): upsert_sql(operator, order)
    for operator in ("best", "latest", "sum")
    for order in ("desc", "asc")
}
