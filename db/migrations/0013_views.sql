-- One board, several views (CONTRACT v1.2): how a board numbers tied scores.
-- `ordinal` (1, 2, 3, 4: ties by who reached the score first), `competition` (1, 2, 2, 4)
-- or `dense` (1, 2, 2, 3). Only the numbers differ: the order of entries is the same.
ALTER TABLE leaderboards
    ADD COLUMN ranks text NOT NULL DEFAULT 'ordinal'
        CHECK (ranks IN ('ordinal', 'competition', 'dense'));
