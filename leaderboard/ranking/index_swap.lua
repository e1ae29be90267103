-- Finish a rebuild: replay what changed meanwhile, then swap the new index in atomically.
-- KEYS[1]  new scores zset (temporary)   KEYS[2]  new members hash (temporary)
-- KEYS[3]  scores zset    KEYS[4]  members hash    KEYS[5]  ready marker
-- KEYS[6]  rebuild lock   KEYS[7]  journal
-- KEYS[8]  new distinct scores zset (temporary)   KEYS[9]  distinct scores zset
--          (index_common.lua)
-- KEYS[10] new digest (temporary; index_fill.lua wrote it)   KEYS[11] digest
-- ARGV[1]  the rebuild's lock token
-- ARGV[2]  the index keys' time to live, ms ("0": no TTL)
-- ARGV[3]  the run id of this Redis server: the ready marker's value (index_guard.py)
-- Returns: the number of entries of the new index, or -1 when the lock is no longer ours
--          (it expired and another rebuild took over: ours is discarded).
-- TOMBSTONE (from values.py) and member_of (index_common.lua): prepended by scripts.py.
if redis.call('GET', KEYS[6]) ~= ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[8], KEYS[10])
  return -1
end
-- Take the player's entry out of the new index (and its score out of the distinct ones).
local function take_out(player, current)
  local held = member_of(player, current)
  local held_score = redis.call('ZSCORE', KEYS[1], held)
  take_member(KEYS[1], KEYS[8], held)
  if held_score then
    digest_change(KEYS[10], player, held_score, held, false, false)
  end
end
-- Journal entries: "<player> <score> <member>" (applied), "<player> - -" (removed for
-- good) or "<player> ~ ~" (the entry removed; the player may come back).
for _, entry in ipairs(redis.call('LRANGE', KEYS[7], 0, -1)) do
  local player, score, member = string.match(entry, '^(%S+) (%S+) (%S+)$')
  local current = redis.call('HGET', KEYS[2], player)
  if score == '-' or score == '~' then
    if current and current ~= TOMBSTONE then
      take_out(player, current)
    end
    if score == '-' then
      redis.call('HSET', KEYS[2], player, TOMBSTONE)  -- deleted for good
    else
      redis.call('HDEL', KEYS[2], player)
    end
  elseif not current or string.sub(member, 1, 16) > string.sub(current, 1, 16) then
    if current and current ~= TOMBSTONE then
      take_out(player, current)
    end
    redis.call('ZADD', KEYS[1], score, member)
    distinct_add(KEYS[8], score)
    digest_change(KEYS[10], player, false, false, score, member)
    redis.call('HSET', KEYS[2], player, string.sub(member, 1, 16))
  end
end
local total = redis.call('ZCARD', KEYS[1])
if total > 0 then
  redis.call('RENAME', KEYS[1], KEYS[3])
  redis.call('RENAME', KEYS[2], KEYS[4])
  redis.call('DEL', KEYS[9])
  if redis.call('EXISTS', KEYS[8]) == 1 then  -- always, with entries; never fail the swap
    redis.call('RENAME', KEYS[8], KEYS[9])
  end
else
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[8], KEYS[9])
end
if redis.call('EXISTS', KEYS[10]) == 1 then
  redis.call('RENAME', KEYS[10], KEYS[11])
else
  redis.call('DEL', KEYS[11])
end
redis.call('SET', KEYS[5], ARGV[3])
for _, key in ipairs({KEYS[3], KEYS[4], KEYS[5], KEYS[9], KEYS[11]}) do
  if ARGV[2] == '0' then
    redis.call('PERSIST', key)
  else
    redis.call('PEXPIRE', key, ARGV[2])
  end
end
redis.call('DEL', KEYS[6], KEYS[7])
return total
