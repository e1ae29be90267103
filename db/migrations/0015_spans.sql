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
-- Building the new key reads the table once, under the ALTER's lock (docs/operations.md).
ALTER TABLE scores DROP CONSTRAINT scores_pkey,
    ADD CONSTRAINT scores_pkey PRIMARY KEY (leaderboard_id, span, period_start, player_id);
