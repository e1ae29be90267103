-- Prepended to every index script by index.py (a Redis script cannot import another).
-- The members hash maps a player to the 16-hex sequence of their member
-- ("<sequence>:<player id>"); indexes written before this held the whole member, and
-- both read the same. The tombstone "ffffffffffffffff" is the caller's to check first.
local function member_of(player, value)
  if #value == 16 then
    return value .. ':' .. player
  end
  return value
end
