-- Prepended to every index script by rank_index.py (a Redis script cannot import another).
-- The members hash maps a player to the 16-hex sequence of their member
-- ("<sequence>:<player id>"); indexes written before this held the whole member, and
-- both read the same.
-- A removed player's members-hash value: greater than every sequence, so that a late
-- write of a score committed before the removal is refused.
local TOMBSTONE = 'ffffffffffffffff'
-- The player's member from their members-hash value (the caller checks TOMBSTONE first).
local function member_of(player, value)
  if #value == 16 then
    return value .. ':' .. player
  end
  return value
end
