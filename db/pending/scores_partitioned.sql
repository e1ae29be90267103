-- STAGED, NOT APPLIED: `scores` partitioned by board (hash) and by month of the period.
-- Goes into db/migrations as the next NNNN_scores_partitioned.sql once, in an EARLIER
-- release, leaderboard/boards/score_upsert_sql.py returns `previous_score IS NULL` instead
-- of `xmax = 0` (Postgres 15 refuses system columns in RETURNING from a partitioned table:
-- "cannot retrieve a system column in this context"); see docs/postgres.md, "What is left".
--
-- Layout (docs/postgres.md, "Partitioning"):
--   scores                   PARTITION BY HASH (leaderboard_id), 8 buckets, made here once
--   └─ scores_h<b>           PARTITION BY RANGE (period_start)
--      ├─ scores_h<b>_alltime    boards that never reset (period 1970-01-01)
--      ├─ scores_h<b>_<yyyymm>   the periods starting in one month
--      └─ scores_h<b>_default    anything no month partition holds yet
-- A new board needs no DDL (it hashes into a bucket); a month's partitions are created
-- ahead of it by the retention job (scores_ensure_month), and rows that landed in a
-- bucket's default meanwhile are moved into the new partition under the bucket's lock.
-- Old months whose every period is past its board's keep_periods are dropped whole
-- (scores_drop_month); finer retention deletes rows (leaderboard/boards/retention.py).
--
-- The conversion copies every row inside this migration's transaction: `scores` is
-- locked (ACCESS EXCLUSIVE) meanwhile; docs/postgres.md gives the measured rate.

ALTER TABLE scores RENAME TO scores_unpartitioned;
ALTER TABLE scores_unpartitioned RENAME CONSTRAINT scores_pkey TO scores_unpartitioned_pkey;
ALTER TABLE scores_unpartitioned
    RENAME CONSTRAINT scores_score_check TO scores_unpartitioned_score_check;
ALTER TABLE scores_unpartitioned
    RENAME CONSTRAINT scores_leaderboard_id_fkey TO scores_unpartitioned_leaderboard_id_fkey;
ALTER TABLE scores_unpartitioned
    RENAME CONSTRAINT scores_player_id_fkey TO scores_unpartitioned_player_id_fkey;
ALTER INDEX scores_player RENAME TO scores_unpartitioned_player;

-- The same columns, defaults, checks and keys as before (0003, 0004, 0006, 0012).
CREATE TABLE scores (
    leaderboard_id text NOT NULL,
    period_start   date NOT NULL,
    player_id      uuid NOT NULL,
    score          bigint NOT NULL,
    reached_seq    bigint NOT NULL,
    reached_at     timestamptz NOT NULL,
    submissions    integer NOT NULL DEFAULT 1,
    metadata       jsonb,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    previous_score bigint,
    hidden         boolean NOT NULL DEFAULT false,
    unledgered     bigint,
    CONSTRAINT scores_pkey PRIMARY KEY (leaderboard_id, period_start, player_id),
    CONSTRAINT scores_score_check
        CHECK (score BETWEEN -9007199254740991 AND 9007199254740991),
    CONSTRAINT scores_leaderboard_id_fkey FOREIGN KEY (leaderboard_id)
        REFERENCES leaderboards (id) ON DELETE CASCADE,
    CONSTRAINT scores_player_id_fkey FOREIGN KEY (player_id)
        REFERENCES players (id) ON DELETE CASCADE
) PARTITION BY HASH (leaderboard_id);

CREATE INDEX scores_player ON scores (player_id);

-- The partition holding one bucket's periods of one month (NULL month: the all-time one).
CREATE FUNCTION scores_partition(bucket integer, month date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format('scores_h%s_%s', bucket, coalesce(to_char(month, 'YYYYMM'), 'alltime'))
$$;

-- Make the partition of `month` (its first day) in `bucket` if it is missing; true when
-- this call made it. Rows of that month already in the bucket's default partition (the
-- partition came late) move into it, under an ACCESS EXCLUSIVE lock on the bucket: no
-- statement touching the bucket runs meanwhile, and every later one sees the new
-- partition. The foreign keys' tables are locked first (the new partition gets their
-- triggers), always in this order, so two callers, or a writer, cannot deadlock with it;
-- lock_timeout bounds how long writers queue behind a lock it waits for (the caller
-- retries in its next round).
CREATE FUNCTION scores_ensure_month(bucket integer, month date) RETURNS boolean
LANGUAGE plpgsql SET lock_timeout = '200ms' AS $$
DECLARE
    parent   text := format('scores_h%s', bucket);
    leaf     text := scores_partition(bucket, month);
    fallback text := format('scores_h%s_default', bucket);
    upper    date := (month + interval '1 month')::date;
    late     boolean;
BEGIN
    IF month <> date_trunc('month', month)::date THEN
        RAISE EXCEPTION 'scores_ensure_month: % is not the first day of a month', month;
    END IF;
    IF to_regclass(leaf) IS NOT NULL THEN
        RETURN false;
    END IF;
    LOCK TABLE players, leaderboards IN SHARE ROW EXCLUSIVE MODE;
    EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', parent);
    IF to_regclass(leaf) IS NOT NULL THEN  -- another caller made it while we waited
        RETURN false;
    END IF;
    EXECUTE format(
        'SELECT EXISTS (SELECT 1 FROM %I WHERE period_start >= $1 AND period_start < $2)',
        fallback) INTO late USING month, upper;
    IF NOT late THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       leaf, parent, month, upper);
    ELSE
        EXECUTE format('CREATE TABLE %I (LIKE scores INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       leaf);
        EXECUTE format(
            'WITH moved AS (DELETE FROM %I WHERE period_start >= $1 AND period_start < $2 '
            'RETURNING *) INSERT INTO %I SELECT * FROM moved', fallback, leaf) USING month, upper;
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                       parent, leaf, month, upper);
    END IF;
    RETURN true;
END
$$;

-- Drop the partition of `month` in `bucket` (the caller has checked that every period
-- in it is past its board's keep_periods, and holds those periods' rebuild locks); false
-- when there is none. Same lock order and bound as scores_ensure_month.
CREATE FUNCTION scores_drop_month(bucket integer, month date) RETURNS boolean
LANGUAGE plpgsql SET lock_timeout = '200ms' AS $$
DECLARE
    leaf text := scores_partition(bucket, month);
BEGIN
    IF month IS NULL OR to_regclass(leaf) IS NULL THEN
        RETURN false;
    END IF;
    LOCK TABLE players, leaderboards IN SHARE ROW EXCLUSIVE MODE;
    EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', format('scores_h%s', bucket));
    EXECUTE format('DROP TABLE %I', leaf);
    RETURN true;
END
$$;

DO $$
DECLARE
    bucket integer;
    month  date;
BEGIN
    FOR bucket IN 0..7 LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF scores '
                       'FOR VALUES WITH (MODULUS 8, REMAINDER %s) PARTITION BY RANGE (period_start)',
                       format('scores_h%s', bucket), bucket);
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (MINVALUE) TO (%L)',
                       scores_partition(bucket, NULL), format('scores_h%s', bucket), '1970-01-02');
        EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT',
                       format('scores_h%s_default', bucket), format('scores_h%s', bucket));
        -- Every month with scores, and this month and the next.
        FOR month IN
            SELECT DISTINCT date_trunc('month', period_start)::date FROM scores_unpartitioned
             WHERE period_start >= '1970-01-02'
            UNION SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date
            UNION SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month')::date
        LOOP
            PERFORM scores_ensure_month(bucket, month);
        END LOOP;
    END LOOP;
END
$$;

INSERT INTO scores (leaderboard_id, period_start, player_id, score, reached_seq, reached_at,
                    submissions, metadata, updated_at, previous_score, hidden, unledgered)
SELECT leaderboard_id, period_start, player_id, score, reached_seq, reached_at,
       submissions, metadata, updated_at, previous_score, hidden, unledgered
  FROM scores_unpartitioned;

DO $$
BEGIN
    IF (SELECT count(*) FROM scores) <> (SELECT count(*) FROM scores_unpartitioned) THEN
        RAISE EXCEPTION 'scores_partitioned: the copy lost rows';
    END IF;
END
$$;

DROP TABLE scores_unpartitioned;
ANALYZE scores;
