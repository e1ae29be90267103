-- The stored score a submission replaced (NULL on a player's first entry in a period).
-- One statement upserts many submissions at once (group commit); Postgres 15 has no
-- OLD in RETURNING, so this column is how each row tells whether its score changed.
-- Nullable without a default: adding it rewrites nothing.
ALTER TABLE scores ADD COLUMN previous_score bigint;
