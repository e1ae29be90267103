-- The display names of many players' cached profiles, in one call (leaderboard pages).
-- KEYS[1…n]  profile hashes ({prefix}player:{<id>}:profile); single-node Redis only, since
--            on a Cluster they live in different slots
-- ARGV       none
-- Returns: one entry per key: cached_name(key) (profile_name.lua, loaded first).
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = cached_name(key)
end
return out
