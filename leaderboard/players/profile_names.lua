-- The display names of many players' cached profiles, in one call (leaderboard pages).
-- KEYS[1…n]  profile hashes ({prefix}player:{<id>}:profile); single-node Redis only, since
--            on a Cluster they live in different slots
-- ARGV       none
-- Returns: one entry per key: the display name; 0 for a cached "no such player"; false
--          when not cached (absent, or a tombstone of a write in progress: ask Postgres).
local out = {}
for i, key in ipairs(KEYS) do
  local fields = redis.call('HMGET', key, 'display_name', 'missing', 'tomb')
  if fields[3] then
    out[i] = false
  elseif fields[2] then
    out[i] = 0
  else
    out[i] = fields[1]
  end
end
return out
