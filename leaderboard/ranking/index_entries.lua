-- Read what a period's index holds for some players, or for a window of ranks.
-- KEYS[1]  scores zset   KEYS[2]  members hash
-- ARGV[1]  "players": ARGV[2…] are player ids;  "ranks": ARGV[2], ARGV[3] first and last
--          position (0-based, inclusive)
-- Returns: players: {members-hash value or false, Redis score or false, …} per player;
--          ranks: {member, Redis score, member, Redis score, …}
-- TOMBSTONE (from values.py) and member_of (index_common.lua): prepended by scripts.py.
if ARGV[1] == 'ranks' then
  return redis.call('ZRANGE', KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]), 'WITHSCORES')
end
local out = {}
for i = 2, #ARGV do
  local player = ARGV[i]
  local value = redis.call('HGET', KEYS[2], player)
  local score = false
  if value and value ~= TOMBSTONE then
    score = redis.call('ZSCORE', KEYS[1], member_of(player, value))
  end
  out[#out + 1] = value or false
  out[#out + 1] = score or false
end
return out
