-- Retention: a resetting board may keep only its last `keep_periods` periods (the current
-- one included); a background job drops older periods' scores (leaderboard/boards/retention.py).
-- NULL keeps every period. Boards that never reset have one period: nothing to drop.
ALTER TABLE leaderboards
    ADD COLUMN keep_periods integer CHECK (keep_periods BETWEEN 1 AND 100000),
    ADD CONSTRAINT leaderboards_keep_periods_reset CHECK (keep_periods IS NULL OR reset <> 'never');

-- Background jobs that one worker at a time may run (the retention job) hold a lease here:
-- a row, not a session advisory lock, so that it works through PgBouncer in transaction
-- mode and outlives no crashed holder (it expires).
CREATE TABLE maintenance_leases (
    name       text PRIMARY KEY,
    holder     text NOT NULL,
    expires_at timestamptz NOT NULL
);
