-- Prepended to every index script by scripts.py (a Redis script cannot import another),
-- after the constants the Python side defines and events/emit.lua (emit): TOMBSTONE
-- (values.py), a removed player's members-hash value, greater than every sequence, so
-- that a late write of a score committed before the removal is refused.
-- The members hash maps a player to the 16-hex sequence of their member
-- ("<sequence>:<player id>"); indexes written before this held the whole member, and
-- both read the same.

-- The player's member from their members-hash value (the caller checks TOMBSTONE first).
local function member_of(player, value)
  if #value == 16 then
    return value .. ':' .. player
  end
  return value
end

-- A rebuild holding lock_key now builds from a Postgres snapshot that may predate this
-- change: note it in the journal, which the rebuild replays before swapping its index
-- in (index_swap.lua), and which lives exactly as long as the lock.
local function journal(lock_key, journal_key, entry)
  local lock_ttl = redis.call('PTTL', lock_key)
  if lock_ttl > 0 then
    redis.call('RPUSH', journal_key, entry)
    redis.call('PEXPIRE', journal_key, lock_ttl)
  end
end
