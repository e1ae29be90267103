-- A country move is done twice (D-048): at once, by the worker that committed the
-- profile, and again by the index guard once the change is 10 s old, which clears what a
-- submission that read the old country put back in its index after the first move.
-- NULL: not moved yet (just changed, or its worker died before the move).
ALTER TABLE country_moves ADD COLUMN moved_at timestamptz;
