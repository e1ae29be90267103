-- Read a page of a period's index, by position or around a player, in one atomic step.
-- KEYS[1]  scores zset   KEYS[2]  members hash (player id → sequence)   KEYS[3]  ready marker
-- KEYS[4]  rebuild lock
-- ARGV[1]  "top" or "around"
-- ARGV[2]  top: first position (0-based);  around: player id
-- ARGV[3]  top: last position (inclusive); around: radius
-- Returns: {status, total, first position, {member, score, member, score, …}, player rank}
--   status 1: read; -1: the index is not ready (lost or never built): rebuild, call again.
--   While a rebuild runs, the old index (if any) is still read.
--   around: player rank is false (and the page empty) when the player has no entry.
-- TOMBSTONE and member_of(player, hash value): from index_common.lua, loaded first.
if redis.call('EXISTS', KEYS[3]) == 0
    and not (redis.call('EXISTS', KEYS[4]) == 1 and redis.call('EXISTS', KEYS[1]) == 1) then
  return {-1}
end
local total = redis.call('ZCARD', KEYS[1])
if ARGV[1] == 'top' then
  local first = tonumber(ARGV[2])
  return {1, total, first, redis.call('ZRANGE', KEYS[1], first, tonumber(ARGV[3]), 'WITHSCORES'), false}
end
local value = redis.call('HGET', KEYS[2], ARGV[2])
local rank = value and redis.call('ZRANK', KEYS[1], member_of(ARGV[2], value))
if not rank then  -- no entry, or a deleted player's tombstone
  return {1, total, 0, {}, false}
end
local radius = tonumber(ARGV[3])
local first = math.max(0, rank - radius)
return {1, total, first, redis.call('ZRANGE', KEYS[1], first, rank + radius, 'WITHSCORES'), rank}
