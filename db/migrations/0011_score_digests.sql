-- Per-bucket digests of each board period's entries (docs/ranking.md, "Digests";
-- docs/decisions.md D-033): the index guard compares them with the Redis index's own
-- digests each round and opens only the buckets that differ, so finding a divergence costs
-- the same on a board of 10 M entries as on one of 1,000.
--
-- A bucket is the first three hex digits of the player id (4,096 buckets; a bucket's rows
-- are one range of the primary key). A bucket's digest: its entries, two hash lanes (the
-- sum, modulo a prime below 2^26, of a polynomial hash of each entry's player id, Redis
-- score and reached_seq) and seven sums of the player ids' chunks, which name a lone extra
-- entry. The Redis scripts compute the same (ranking/index_digest.lua): every step stays
-- below 2^53, exact in Lua's doubles.
--
-- Writers only append deltas (score_digest_deltas: no index, no key, so no row lock shared
-- between concurrent group commits); the guard folds them into score_digests each round.

CREATE TABLE score_digests (
    leaderboard_id text NOT NULL REFERENCES leaderboards (id) ON DELETE CASCADE,
    period_start   date NOT NULL,
    bucket         integer NOT NULL CHECK (bucket BETWEEN 0 AND 4095),
    entries        bigint NOT NULL,
    lane1          bigint NOT NULL,  -- modulo 67108859
    lane2          bigint NOT NULL,  -- modulo 67108837
    id0 bigint NOT NULL, id1 bigint NOT NULL, id2 bigint NOT NULL, id3 bigint NOT NULL,
    id4 bigint NOT NULL, id5 bigint NOT NULL, id6 bigint NOT NULL,
    PRIMARY KEY (leaderboard_id, period_start, bucket)
);

-- What each statement changed, per bucket: signed sums (lanes not yet reduced).
CREATE TABLE score_digest_deltas (
    leaderboard_id text NOT NULL,
    period_start   date NOT NULL,
    bucket         integer NOT NULL,
    entries        bigint NOT NULL,
    lane1          bigint NOT NULL,
    lane2          bigint NOT NULL,
    id0 bigint NOT NULL, id1 bigint NOT NULL, id2 bigint NOT NULL, id3 bigint NOT NULL,
    id4 bigint NOT NULL, id5 bigint NOT NULL, id6 bigint NOT NULL
);

-- The hashed values of one entry: the player id in seven chunks along its dashes (16 or
-- 24 bits each), then the Redis score (the stored score, negated on desc boards) and
-- reached_seq, each split at 2^26 (the score's high part offset by 2^27: non-negative).
CREATE FUNCTION score_entry_values(player uuid, redis_score bigint, seq bigint)
RETURNS bigint[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY[
        (get_byte(b, 0)::bigint << 8) | get_byte(b, 1),
        (get_byte(b, 2)::bigint << 8) | get_byte(b, 3),
        (get_byte(b, 4)::bigint << 8) | get_byte(b, 5),
        (get_byte(b, 6)::bigint << 8) | get_byte(b, 7),
        (get_byte(b, 8)::bigint << 8) | get_byte(b, 9),
        (get_byte(b, 10)::bigint << 16) | (get_byte(b, 11) << 8) | get_byte(b, 12),
        (get_byte(b, 13)::bigint << 16) | (get_byte(b, 14) << 8) | get_byte(b, 15),
        s_lo, (redis_score - s_lo) / 67108864 + 134217728,
        seq % 67108864, seq / 67108864]
      FROM (SELECT uuid_send(player) AS b,
                   (redis_score % 67108864 + 67108864) % 67108864 AS s_lo) AS parts
$$;

-- One entry's digest: bucket, the two lanes, the seven id chunks. (PL/pgSQL: each value
-- is computed once; ~15 µs a call. The trigger below writes the same out inline.)
CREATE FUNCTION score_entry_digest(player uuid, redis_score bigint, seq bigint,
    OUT bucket integer, OUT lane1 bigint, OUT lane2 bigint,
    OUT id0 bigint, OUT id1 bigint, OUT id2 bigint, OUT id3 bigint,
    OUT id4 bigint, OUT id5 bigint, OUT id6 bigint)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    v bigint[] := score_entry_values(player, redis_score, seq);
BEGIN
    bucket := v[1] >> 4;
    lane1 := ((((((((((v[1] * 39916801 + v[2]) % 67108859 * 39916801 + v[3]) % 67108859 * 39916801 + v[4]) % 67108859 * 39916801 + v[5]) % 67108859 * 39916801 + v[6]) % 67108859 * 39916801 + v[7]) % 67108859 * 39916801 + v[8]) % 67108859 * 39916801 + v[9]) % 67108859 * 39916801 + v[10]) % 67108859 * 39916801 + v[11]) % 67108859;
    lane2 := ((((((((((v[1] * 52402517 + v[2]) % 67108837 * 52402517 + v[3]) % 67108837 * 52402517 + v[4]) % 67108837 * 52402517 + v[5]) % 67108837 * 52402517 + v[6]) % 67108837 * 52402517 + v[7]) % 67108837 * 52402517 + v[8]) % 67108837 * 52402517 + v[9]) % 67108837 * 52402517 + v[10]) % 67108837 * 52402517 + v[11]) % 67108837;
    id0 := v[1]; id1 := v[2]; id2 := v[3]; id3 := v[4]; id4 := v[5]; id5 := v[6];
    id6 := v[7];
END
$$;

-- Statement-level: one INSERT per statement of what it changed, grouped by bucket; an
-- update that kept the entry as it was (an unchanged submission) adds nothing. Hidden rows
-- are not in the index, so not in the digest. The hash is score_entry_digest's, written
-- out inline (~1-3 µs a row against ~15 µs for the function call); tests check they agree.
CREATE FUNCTION score_digest_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO score_digest_deltas
        SELECT leaderboard_id, period_start, v1 >> 4, sum(sign), sum(sign * lane1),
               sum(sign * lane2), sum(sign * v1), sum(sign * v2), sum(sign * v3), sum(sign * v4), sum(sign * v5), sum(sign * v6), sum(sign * v7)
          FROM (SELECT *, ((((((((((v1 * 39916801 + v2) % 67108859 * 39916801 + v3) % 67108859 * 39916801 + v4) % 67108859 * 39916801 + v5) % 67108859 * 39916801 + v6) % 67108859 * 39916801 + v7) % 67108859 * 39916801 + v8) % 67108859 * 39916801 + v9) % 67108859 * 39916801 + v10) % 67108859 * 39916801 + v11) % 67108859 AS lane1,
                       ((((((((((v1 * 52402517 + v2) % 67108837 * 52402517 + v3) % 67108837 * 52402517 + v4) % 67108837 * 52402517 + v5) % 67108837 * 52402517 + v6) % 67108837 * 52402517 + v7) % 67108837 * 52402517 + v8) % 67108837 * 52402517 + v9) % 67108837 * 52402517 + v10) % 67108837 * 52402517 + v11) % 67108837 AS lane2
                  FROM (SELECT sign, leaderboard_id, period_start,
                               (get_byte(b, 0)::bigint << 8) | get_byte(b, 1) AS v1,
                               (get_byte(b, 2)::bigint << 8) | get_byte(b, 3) AS v2,
                               (get_byte(b, 4)::bigint << 8) | get_byte(b, 5) AS v3,
                               (get_byte(b, 6)::bigint << 8) | get_byte(b, 7) AS v4,
                               (get_byte(b, 8)::bigint << 8) | get_byte(b, 9) AS v5,
                               (get_byte(b, 10)::bigint << 16) | (get_byte(b, 11) << 8) | get_byte(b, 12) AS v6,
                               (get_byte(b, 13)::bigint << 16) | (get_byte(b, 14) << 8) | get_byte(b, 15) AS v7,
                               s_lo AS v8, (s - s_lo) / 67108864 + 134217728 AS v9,
                               q % 67108864 AS v10, q / 67108864 AS v11
                          FROM (SELECT c.sign, c.leaderboard_id, c.period_start,
                                       uuid_send(c.player_id) AS b, r.s,
                                       (r.s % 67108864 + 67108864) % 67108864 AS s_lo,
                                       c.reached_seq AS q
                                  FROM (SELECT 1 AS sign, leaderboard_id, period_start, player_id, score, reached_seq, hidden FROM new_rows) c
                                  JOIN leaderboards l ON l.id = c.leaderboard_id,
                                       LATERAL (SELECT CASE WHEN l.sort_order = 'desc'
                                                            THEN -c.score ELSE c.score END AS s) r
                                 WHERE NOT c.hidden
                                OFFSET 0) AS parts
                        OFFSET 0) AS chunked
                OFFSET 0) AS hashed
         GROUP BY 1, 2, 3
        HAVING sum(sign) <> 0 OR sum(sign * lane1) <> 0 OR sum(sign * lane2) <> 0;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO score_digest_deltas
        SELECT leaderboard_id, period_start, v1 >> 4, sum(sign), sum(sign * lane1),
               sum(sign * lane2), sum(sign * v1), sum(sign * v2), sum(sign * v3), sum(sign * v4), sum(sign * v5), sum(sign * v6), sum(sign * v7)
          FROM (SELECT *, ((((((((((v1 * 39916801 + v2) % 67108859 * 39916801 + v3) % 67108859 * 39916801 + v4) % 67108859 * 39916801 + v5) % 67108859 * 39916801 + v6) % 67108859 * 39916801 + v7) % 67108859 * 39916801 + v8) % 67108859 * 39916801 + v9) % 67108859 * 39916801 + v10) % 67108859 * 39916801 + v11) % 67108859 AS lane1,
                       ((((((((((v1 * 52402517 + v2) % 67108837 * 52402517 + v3) % 67108837 * 52402517 + v4) % 67108837 * 52402517 + v5) % 67108837 * 52402517 + v6) % 67108837 * 52402517 + v7) % 67108837 * 52402517 + v8) % 67108837 * 52402517 + v9) % 67108837 * 52402517 + v10) % 67108837 * 52402517 + v11) % 67108837 AS lane2
                  FROM (SELECT sign, leaderboard_id, period_start,
                               (get_byte(b, 0)::bigint << 8) | get_byte(b, 1) AS v1,
                               (get_byte(b, 2)::bigint << 8) | get_byte(b, 3) AS v2,
                               (get_byte(b, 4)::bigint << 8) | get_byte(b, 5) AS v3,
                               (get_byte(b, 6)::bigint << 8) | get_byte(b, 7) AS v4,
                               (get_byte(b, 8)::bigint << 8) | get_byte(b, 9) AS v5,
                               (get_byte(b, 10)::bigint << 16) | (get_byte(b, 11) << 8) | get_byte(b, 12) AS v6,
                               (get_byte(b, 13)::bigint << 16) | (get_byte(b, 14) << 8) | get_byte(b, 15) AS v7,
                               s_lo AS v8, (s - s_lo) / 67108864 + 134217728 AS v9,
                               q % 67108864 AS v10, q / 67108864 AS v11
                          FROM (SELECT c.sign, c.leaderboard_id, c.period_start,
                                       uuid_send(c.player_id) AS b, r.s,
                                       (r.s % 67108864 + 67108864) % 67108864 AS s_lo,
                                       c.reached_seq AS q
                                  FROM (SELECT -1 AS sign, leaderboard_id, period_start, player_id, score, reached_seq, hidden FROM old_rows) c
                                  JOIN leaderboards l ON l.id = c.leaderboard_id,
                                       LATERAL (SELECT CASE WHEN l.sort_order = 'desc'
                                                            THEN -c.score ELSE c.score END AS s) r
                                 WHERE NOT c.hidden
                                OFFSET 0) AS parts
                        OFFSET 0) AS chunked
                OFFSET 0) AS hashed
         GROUP BY 1, 2, 3
        HAVING sum(sign) <> 0 OR sum(sign * lane1) <> 0 OR sum(sign * lane2) <> 0;
    ELSE
        INSERT INTO score_digest_deltas
        SELECT leaderboard_id, period_start, v1 >> 4, sum(sign), sum(sign * lane1),
               sum(sign * lane2), sum(sign * v1), sum(sign * v2), sum(sign * v3), sum(sign * v4), sum(sign * v5), sum(sign * v6), sum(sign * v7)
          FROM (SELECT *, ((((((((((v1 * 39916801 + v2) % 67108859 * 39916801 + v3) % 67108859 * 39916801 + v4) % 67108859 * 39916801 + v5) % 67108859 * 39916801 + v6) % 67108859 * 39916801 + v7) % 67108859 * 39916801 + v8) % 67108859 * 39916801 + v9) % 67108859 * 39916801 + v10) % 67108859 * 39916801 + v11) % 67108859 AS lane1,
                       ((((((((((v1 * 52402517 + v2) % 67108837 * 52402517 + v3) % 67108837 * 52402517 + v4) % 67108837 * 52402517 + v5) % 67108837 * 52402517 + v6) % 67108837 * 52402517 + v7) % 67108837 * 52402517 + v8) % 67108837 * 52402517 + v9) % 67108837 * 52402517 + v10) % 67108837 * 52402517 + v11) % 67108837 AS lane2
                  FROM (SELECT sign, leaderboard_id, period_start,
                               (get_byte(b, 0)::bigint << 8) | get_byte(b, 1) AS v1,
                               (get_byte(b, 2)::bigint << 8) | get_byte(b, 3) AS v2,
                               (get_byte(b, 4)::bigint << 8) | get_byte(b, 5) AS v3,
                               (get_byte(b, 6)::bigint << 8) | get_byte(b, 7) AS v4,
                               (get_byte(b, 8)::bigint << 8) | get_byte(b, 9) AS v5,
                               (get_byte(b, 10)::bigint << 16) | (get_byte(b, 11) << 8) | get_byte(b, 12) AS v6,
                               (get_byte(b, 13)::bigint << 16) | (get_byte(b, 14) << 8) | get_byte(b, 15) AS v7,
                               s_lo AS v8, (s - s_lo) / 67108864 + 134217728 AS v9,
                               q % 67108864 AS v10, q / 67108864 AS v11
                          FROM (SELECT c.sign, c.leaderboard_id, c.period_start,
                                       uuid_send(c.player_id) AS b, r.s,
                                       (r.s % 67108864 + 67108864) % 67108864 AS s_lo,
                                       c.reached_seq AS q
                                  FROM (SELECT 1 AS sign, leaderboard_id, period_start, player_id, score, reached_seq, hidden FROM new_rows UNION ALL SELECT -1, leaderboard_id, period_start, player_id, score, reached_seq, hidden FROM old_rows) c
                                  JOIN leaderboards l ON l.id = c.leaderboard_id,
                                       LATERAL (SELECT CASE WHEN l.sort_order = 'desc'
                                                            THEN -c.score ELSE c.score END AS s) r
                                 WHERE NOT c.hidden
                                OFFSET 0) AS parts
                        OFFSET 0) AS chunked
                OFFSET 0) AS hashed
         GROUP BY 1, 2, 3
        HAVING sum(sign) <> 0 OR sum(sign * lane1) <> 0 OR sum(sign * lane2) <> 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER scores_digest_insert AFTER INSERT ON scores
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION score_digest_note();
CREATE TRIGGER scores_digest_update AFTER UPDATE ON scores
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION score_digest_note();
CREATE TRIGGER scores_digest_delete AFTER DELETE ON scores
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION score_digest_note();

-- The rows already there.
INSERT INTO score_digests
SELECT s.leaderboard_id, s.period_start, d.bucket, count(*), sum(d.lane1) % 67108859,
       sum(d.lane2) % 67108837, sum(d.id0), sum(d.id1), sum(d.id2), sum(d.id3), sum(d.id4),
       sum(d.id5), sum(d.id6)
  FROM scores s JOIN leaderboards l ON l.id = s.leaderboard_id,
       LATERAL score_entry_digest(s.player_id,
           CASE WHEN l.sort_order = 'desc' THEN -s.score ELSE s.score END, s.reached_seq) d
 WHERE NOT s.hidden
 GROUP BY 1, 2, 3;
