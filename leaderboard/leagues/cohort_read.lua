-- Read a cohort's index: every entry, or one player's.
-- KEYS[1] scores zset   KEYS[2] members hash   KEYS[3] ready marker
-- ARGV[1] a player id, or '' for the whole cohort
-- Returns {-1} when the index is not ready, or torn (lib/index_torn.lua): fill it from
--   Postgres, then read again;
--   whole cohort: {1, members, member1, Redis score1, member2, …}, best first;
--   one player: {1, members, rank (1-based; 0: no entry), Redis score}.
if redis.call('EXISTS', KEYS[3]) == 0 or torn(KEYS[1], KEYS[2], KEYS[3]) then
  return {-1}
end
local members = redis.call('ZCARD', KEYS[1])
if ARGV[1] == '' then
  local reply = {1, members}
  for _, value in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')) do
    reply[#reply + 1] = value
  end
  return reply
end
local seq = redis.call('HGET', KEYS[2], ARGV[1])
if not seq or seq == TOMBSTONE then
  return {1, members, 0, '0'}
end
local member = seq .. ':' .. ARGV[1]
return {1, members, redis.call('ZRANK', KEYS[1], member) + 1, redis.call('ZSCORE', KEYS[1], member)}
