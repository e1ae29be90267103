-- Put a player's entry back to what Postgres holds, when the index disagrees in a way the
-- ordinary apply refuses (a member whose sequence is not older: a score changed by hand,
-- a value left from an index Postgres never had). Compare-and-set: only if the entry is
-- still what the caller saw, so a change applied meanwhile is never overwritten.
-- KEYS[1]  scores zset   KEYS[2]  members hash   KEYS[3]  rebuild lock   KEYS[4]  journal
-- KEYS[5]  distinct scores zset (index_common.lua)
-- KEYS[6]  digest (index_digest.lua; it takes the index's TTL if it had none)
-- ARGV[1]  player id
-- ARGV[2]  the members-hash value the caller saw ("" for none)
-- ARGV[3]  the Redis score the caller saw ("" for none)
-- ARGV[4]  the Redis score to set (Postgres' score, negated on desc boards)
-- ARGV[5]  the member to set: "<reached seq as 16 hex digits>:<player id>"
-- Returns: 1 when repaired, 0 when the entry changed meanwhile (left alone).
-- TOMBSTONE, member_of and journal: from index_common.lua, loaded first.
local player = ARGV[1]
local value = redis.call('HGET', KEYS[2], player)
if (value or '') ~= ARGV[2] or value == TOMBSTONE then
  return 0
end
local current = value and member_of(player, value)
local score = current and redis.call('ZSCORE', KEYS[1], current)
if (score or '') ~= ARGV[3] then
  return 0
end
if current then
  take_member(KEYS[1], KEYS[5], current)
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[5])
distinct_add(KEYS[5], ARGV[4])
digest_change(KEYS[6], player, score or false, current, ARGV[4], ARGV[5])
if redis.call('PTTL', KEYS[6]) == -1 then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[6], ttl)
  end
end
redis.call('HSET', KEYS[2], player, string.sub(ARGV[5], 1, 16))
journal(KEYS[3], KEYS[4], player .. ' ' .. ARGV[4] .. ' ' .. ARGV[5])
return 1
