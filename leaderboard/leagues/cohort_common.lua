-- Prepended to the cohort scripts (cohorts.py), after TOMBSTONE and events/emit.lua.

-- Whether a cohort's two keys still agree: every entry of the sorted set has its field in
-- the members hash (which also keeps tombstones, so it may hold more). Redis may evict or
-- lose one key and not the other; the next write of such a player would add a second
-- member. An index torn like this counts as not built: its ready marker goes, and the
-- caller fills it again from Postgres (cohort_fill.lua starts from empty keys).
local function torn(scores_key, members_key, ready_key)
  if redis.call('HLEN', members_key) < redis.call('ZCARD', scores_key) then
    redis.call('DEL', ready_key)
    return true
  end
  return false
end
