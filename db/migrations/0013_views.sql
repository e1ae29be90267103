-- One board, several views (CONTRACT v1.2): how a board numbers tied scores.
-- `ordinal` (1, 2, 3, 4: ties by who reached the score first), `competition` (1, 2, 2, 4)
-- or `dense` (1, 2, 2, 3). Only the numbers differ: the order of entries is the same.
ALTER TABLE leaderboards
    ADD COLUMN ranks text NOT NULL DEFAULT 'ordinal'
        CHECK (ranks IN ('ordinal', 'competition', 'dense'));

-- Segments: the views of a board within part of its players; today `country` (the
-- players' profile country). A segmented board keeps an index per country beside its own.
ALTER TABLE leaderboards
    ADD COLUMN segments text[] NOT NULL DEFAULT '{}'
        CHECK (segments <@ ARRAY['country']::text[]);
