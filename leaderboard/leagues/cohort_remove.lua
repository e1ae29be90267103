-- Take a deleted player out of a ready cohort index, for good: their hash value becomes
-- TOMBSTONE (defined before this), greater than every sequence, so a late write of a
-- score committed before the deletion is refused (cohort_apply.lua: -2).
-- KEYS[1] scores zset   KEYS[2] members hash   KEYS[3] ready marker
-- ARGV[1] player id
-- Returns 1 when an entry was removed, else 0 (a missing index is filled from Postgres,
-- where the player's rows are gone with them).
if redis.call('EXISTS', KEYS[3]) == 0 then
  return 0
end
local current = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], TOMBSTONE)
if current and current ~= TOMBSTONE then
  redis.call('ZREM', KEYS[1], current .. ':' .. ARGV[1])
  return 1
end
return 0
