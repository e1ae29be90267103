-- Spans (CONTRACT v1.2, "One board, several views"): one board ranks the same
-- submissions over up to four periods at once (for example daily, weekly and all time).
-- `spans` lists them, the primary (the board's reset) first; NULL: just the reset, as every
-- board made before this had.
ALTER TABLE leaderboards
    ADD COLUMN spans text[]
        CHECK (spans IS NULL OR (
            cardinality(spans) BETWEEN 1 AND 4
            AND spans[1] = reset
            AND spans <@ ARRAY['never', 'daily', 'weekly', 'monthly']::text[]));

-- Which span of its board a row belongs to: the span's position in the board's `spans`
-- (0: the primary, the board's reset; fixed at creation, so the number never changes
-- meaning). A constant default adds the column without rewriting the table; every row
-- written before this is a primary-span row. A secondary span's row holds the stored
-- score of that span's period (its own `period_start`), written by the same statement as
-- the primary's (scores/upsert_sql.py).
ALTER TABLE scores ADD COLUMN span smallint NOT NULL DEFAULT 0 CHECK (span BETWEEN 0 AND 3);

-- The key gains the span: a weekly period and a daily one may start on the same day.
-- Building the new key reads the table once, under the ALTER's lock: old workers, whose
-- statement names the old key, cannot submit after this (CHANGELOG, "Upgrading").
ALTER TABLE scores DROP CONSTRAINT scores_pkey,
    ADD CONSTRAINT scores_pkey PRIMARY KEY (leaderboard_id, span, period_start, player_id);

-- Digests (0011) per span: each span's index has its own, so Postgres keeps one per span
-- too. Existing digests are the primary span's (the only one before this). The columns
-- go last: the trigger and the guard's fold insert by position.
ALTER TABLE score_digests ADD COLUMN span smallint NOT NULL DEFAULT 0;
ALTER TABLE score_digests DROP CONSTRAINT score_digests_pkey,
    ADD CONSTRAINT score_digests_pkey PRIMARY KEY (leaderboard_id, span, period_start, bucket);
ALTER TABLE score_digest_deltas ADD COLUMN span smallint NOT NULL DEFAULT 0;

-- 0011's trigger function, each statement's deltas now grouped by span as well.
CREATE OR REPLACE FUNCTION score_digest_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO score_digest_deltas
        SELECT leaderboard_id, period_start, v1 >> 4, sum(sign), sum(sign * lane1),
               sum(sign * lane2), sum(sign * v1), sum(sign * v2), sum(sign * v3), sum(sign * v4), sum(sign * v5), sum(sign * v6), sum(sign * v7),
               span
          FROM (SELECT *, ((((((((((v1 * 39916801 + v2) % 67108859 * 39916801 + v3) % 67108859 * 39916801 + v4) % 67108859 * 39916801 + v5) % 67108859 * 39916801 + v6) % 67108859 * 39916801 + v7) % 67108859 * 39916801 + v8) % 67108859 * 39916801 + v9) % 67108859 * 39916801 + v10) % 67108859 * 39916801 + v11) % 67108859 AS lane1,
                       ((((((((((v1 * 52402517 + v2) % 67108837 * 52402517 + v3) % 67108837 * 52402517 + v4) % 67108837 * 52402517 + v5) % 67108837 * 52402517 + v6) % 67108837 * 52402517 + v7) % 67108837 * 52402517 + v8) % 67108837 * 52402517 + v9) % 67108837 * 52402517 + v10) % 67108837 * 52402517 + v11) % 67108837 AS lane2
                  FROM (SELECT sign, leaderboard_id, period_start, span,
                               (get_byte(b, 0)::bigint << 8) | get_byte(b, 1) AS v1,
                               (get_byte(b, 2)::bigint << 8) | get_byte(b, 3) AS v2,
                               (get_byte(b, 4)::bigint << 8) | get_byte(b, 5) AS v3,
                               (get_byte(b, 6)::bigint << 8) | get_byte(b, 7) AS v4,
                               (get_byte(b, 8)::bigint << 8) | get_byte(b, 9) AS v5,
                               (get_byte(b, 10)::bigint << 16) | (get_byte(b, 11) << 8) | get_byte(b, 12) AS v6,
                               (get_byte(b, 13)::bigint << 16) | (get_byte(b, 14) << 8) | get_byte(b, 15) AS v7,
                               s_lo AS v8, (s - s_lo) / 67108864 + 134217728 AS v9,
                               q % 67108864 AS v10, q / 67108864 AS v11
                          FROM (SELECT c.sign, c.leaderboard_id, c.period_start, c.span,
                                       uuid_send(c.player_id) AS b, r.s,
                                       (r.s % 67108864 + 67108864) % 67108864 AS s_lo,
                                       c.reached_seq AS q
                                  FROM (SELECT 1 AS sign, leaderboard_id, period_start, span, player_id, score, reached_seq, hidden FROM new_rows) c
                                  JOIN leaderboards l ON l.id = c.leaderboard_id,
                                       LATERAL (SELECT CASE WHEN l.sort_order = 'desc'
                                                            THEN -c.score ELSE c.score END AS s) r
                                 WHERE NOT c.hidden
                                OFFSET 0) AS parts
                        OFFSET 0) AS chunked
                OFFSET 0) AS hashed
         GROUP BY 1, 2, 3, 14
        HAVING sum(sign) <> 0 OR sum(sign * lane1) <> 0 OR sum(sign * lane2) <> 0;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO score_digest_deltas
        SELECT leaderboard_id, period_start, v1 >> 4, sum(sign), sum(sign * lane1),
               sum(sign * lane2), sum(sign * v1), sum(sign * v2), sum(sign * v3), sum(sign * v4), sum(sign * v5), sum(sign * v6), sum(sign * v7),
               span
          FROM (SELECT *, ((((((((((v1 * 39916801 + v2) % 67108859 * 39916801 + v3) % 67108859 * 39916801 + v4) % 67108859 * 39916801 + v5) % 67108859 * 39916801 + v6) % 67108859 * 39916801 + v7) % 67108859 * 39916801 + v8) % 67108859 * 39916801 + v9) % 67108859 * 39916801 + v10) % 67108859 * 39916801 + v11) % 67108859 AS lane1,
                       ((((((((((v1 * 52402517 + v2) % 67108837 * 52402517 + v3) % 67108837 * 52402517 + v4) % 67108837 * 52402517 + v5) % 67108837 * 52402517 + v6) % 67108837 * 52402517 + v7) % 67108837 * 52402517 + v8) % 67108837 * 52402517 + v9) % 67108837 * 52402517 + v10) % 67108837 * 52402517 + v11) % 67108837 AS lane2
                  FROM (SELECT sign, leaderboard_id, period_start, span,
                               (get_byte(b, 0)::bigint << 8) | get_byte(b, 1) AS v1,
                               (get_byte(b, 2)::bigint << 8) | get_byte(b, 3) AS v2,
                               (get_byte(b, 4)::bigint << 8) | get_byte(b, 5) AS v3,
                               (get_byte(b, 6)::bigint << 8) | get_byte(b, 7) AS v4,
                               (get_byte(b, 8)::bigint << 8) | get_byte(b, 9) AS v5,
                               (get_byte(b, 10)::bigint << 16) | (get_byte(b, 11) << 8) | get_byte(b, 12) AS v6,
                               (get_byte(b, 13)::bigint << 16) | (get_byte(b, 14) << 8) | get_byte(b, 15) AS v7,
                               s_lo AS v8, (s - s_lo) / 67108864 + 134217728 AS v9,
                               q % 67108864 AS v10, q / 67108864 AS v11
                          FROM (SELECT c.sign, c.leaderboard_id, c.period_start, c.span,
                                       uuid_send(c.player_id) AS b, r.s,
                                       (r.s % 67108864 + 67108864) % 67108864 AS s_lo,
                                       c.reached_seq AS q
                                  FROM (SELECT -1 AS sign, leaderboard_id, period_start, span, player_id, score, reached_seq, hidden FROM old_rows) c
                                  JOIN leaderboards l ON l.id = c.leaderboard_id,
                                       LATERAL (SELECT CASE WHEN l.sort_order = 'desc'
                                                            THEN -c.score ELSE c.score END AS s) r
                                 WHERE NOT c.hidden
                                OFFSET 0) AS parts
                        OFFSET 0) AS chunked
                OFFSET 0) AS hashed
         GROUP BY 1, 2, 3, 14
        HAVING sum(sign) <> 0 OR sum(sign * lane1) <> 0 OR sum(sign * lane2) <> 0;
    ELSE
        INSERT INTO score_digest_deltas
        SELECT leaderboard_id, period_start, v1 >> 4, sum(sign), sum(sign * lane1),
               sum(sign * lane2), sum(sign * v1), sum(sign * v2), sum(sign * v3), sum(sign * v4), sum(sign * v5), sum(sign * v6), sum(sign * v7),
               span
          FROM (SELECT *, ((((((((((v1 * 39916801 + v2) % 67108859 * 39916801 + v3) % 67108859 * 39916801 + v4) % 67108859 * 39916801 + v5) % 67108859 * 39916801 + v6) % 67108859 * 39916801 + v7) % 67108859 * 39916801 + v8) % 67108859 * 39916801 + v9) % 67108859 * 39916801 + v10) % 67108859 * 39916801 + v11) % 67108859 AS lane1,
                       ((((((((((v1 * 52402517 + v2) % 67108837 * 52402517 + v3) % 67108837 * 52402517 + v4) % 67108837 * 52402517 + v5) % 67108837 * 52402517 + v6) % 67108837 * 52402517 + v7) % 67108837 * 52402517 + v8) % 67108837 * 52402517 + v9) % 67108837 * 52402517 + v10) % 67108837 * 52402517 + v11) % 67108837 AS lane2
                  FROM (SELECT sign, leaderboard_id, period_start, span,
                               (get_byte(b, 0)::bigint << 8) | get_byte(b, 1) AS v1,
                               (get_byte(b, 2)::bigint << 8) | get_byte(b, 3) AS v2,
                               (get_byte(b, 4)::bigint << 8) | get_byte(b, 5) AS v3,
                               (get_byte(b, 6)::bigint << 8) | get_byte(b, 7) AS v4,
                               (get_byte(b, 8)::bigint << 8) | get_byte(b, 9) AS v5,
                               (get_byte(b, 10)::bigint << 16) | (get_byte(b, 11) << 8) | get_byte(b, 12) AS v6,
                               (get_byte(b, 13)::bigint << 16) | (get_byte(b, 14) << 8) | get_byte(b, 15) AS v7,
                               s_lo AS v8, (s - s_lo) / 67108864 + 134217728 AS v9,
                               q % 67108864 AS v10, q / 67108864 AS v11
                          FROM (SELECT c.sign, c.leaderboard_id, c.period_start, c.span,
                                       uuid_send(c.player_id) AS b, r.s,
                                       (r.s % 67108864 + 67108864) % 67108864 AS s_lo,
                                       c.reached_seq AS q
                                  FROM (SELECT 1 AS sign, leaderboard_id, period_start, span, player_id, score, reached_seq, hidden FROM new_rows UNION ALL SELECT -1, leaderboard_id, period_start, span, player_id, score, reached_seq, hidden FROM old_rows) c
                                  JOIN leaderboards l ON l.id = c.leaderboard_id,
                                       LATERAL (SELECT CASE WHEN l.sort_order = 'desc'
                                                            THEN -c.score ELSE c.score END AS s) r
                                 WHERE NOT c.hidden
                                OFFSET 0) AS parts
                        OFFSET 0) AS chunked
                OFFSET 0) AS hashed
         GROUP BY 1, 2, 3, 14
        HAVING sum(sign) <> 0 OR sum(sign * lane1) <> 0 OR sum(sign * lane2) <> 0;
    END IF;
    RETURN NULL;
END
$$;
