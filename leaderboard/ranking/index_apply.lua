-- Apply a player's stored score (as committed in Postgres) to a period's index, read the
-- ranks before and after, and announce the change, in one atomic step.
-- KEYS, ARGV and the reply: apply_change's, in index_apply_change.lua (its prelude).
return apply_change(KEYS, ARGV)
