-- Apply a player's stored score (as committed in Postgres) to a period's index, and read
-- the ranks before and after, in one atomic step.
-- KEYS[1]  scores zset     KEYS[2]  members hash   KEYS[3]  ready marker
-- KEYS[4]  rebuild lock    KEYS[5]  rebuild journal
-- ARGV[1]  player id
-- ARGV[2]  Redis score (the stored score, negated on desc boards)
-- ARGV[3]  member: "<reached seq as 16 hex digits>:<player id>"
-- ARGV[4]  expire-at, ms since the epoch, for the index keys ("0": no TTL)
-- Returns: {status, previous rank, previous Redis score, rank, Redis score, total}
--   status  1: applied; 0: Redis already holds this change or a newer one (the member's
--           sequence is not greater), so nothing changed; -1: the index is not ready
--           (lost or never built): rebuild it, then call again. Ranks are 0-based;
--           previous rank and score are false when the player had no entry.
-- Why the sequence check: two submissions of one player may reach Redis in the opposite
-- order of their Postgres commits; the older one must never overwrite the newer.
if redis.call('EXISTS', KEYS[3]) == 0 then
  return {-1}
end
local player, score, member = ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('HGET', KEYS[2], player)
local previous_rank, previous_score = false, false
if current then
  previous_rank = redis.call('ZRANK', KEYS[1], current)
  previous_score = redis.call('ZSCORE', KEYS[1], current)
end
local status = 0
if not current or string.sub(member, 1, 16) > string.sub(current, 1, 16) then
  if current then
    redis.call('ZREM', KEYS[1], current)
  end
  redis.call('ZADD', KEYS[1], score, member)
  redis.call('HSET', KEYS[2], player, member)
  if ARGV[4] ~= '0' then
    for i = 1, 3 do
      redis.call('PEXPIREAT', KEYS[i], ARGV[4])
    end
  end
  -- A rebuild is building a new index from a Postgres snapshot that may predate this
  -- change: note it, so the rebuild replays it before swapping its index in.
  local lock_ttl = redis.call('PTTL', KEYS[4])
  if lock_ttl > 0 then
    redis.call('RPUSH', KEYS[5], player .. ' ' .. score .. ' ' .. member)
    redis.call('PEXPIRE', KEYS[5], lock_ttl)
  end
  current = member
  status = 1
end
return {
  status, previous_rank, previous_score,
  redis.call('ZRANK', KEYS[1], current), redis.call('ZSCORE', KEYS[1], current),
  redis.call('ZCARD', KEYS[1]),
}
