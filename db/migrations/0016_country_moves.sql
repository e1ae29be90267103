-- Country moves still to do (D-048): a profile's change of country is written here in the
-- same transaction as the profile, and the row is deleted once the player's entries have
-- moved between the segmented boards' country indexes (ranking/countries.py). A worker
-- that dies between the commit and the move leaves the row; the index guard finds it
-- and moves the entries. Several changes before one move keep every country left behind.
CREATE TABLE country_moves (
    player_id     uuid PRIMARY KEY REFERENCES players (id) ON DELETE CASCADE,
    old_countries text[] NOT NULL,  -- every index the player may still be in (no NULLs)
    new_country   text,             -- NULL: no country now
    changed_at    timestamptz NOT NULL DEFAULT now()
);
