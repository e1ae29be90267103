-- Prepended (LuaScript.load) to the scripts of every index made of a sorted set of
-- "<sequence>:<player id>" members and a hash player id -> sequence: a board period's
-- (ranking/) and a league cohort's (leagues/).

-- Whether the two keys still agree: every entry of the sorted set has its field in the
-- members hash (which also keeps tombstones, so it may hold more). Redis may evict or lose
-- one key and not the other (or lose fields); the next write of such a player would add a
-- second member. An index torn like this counts as not built: its ready marker goes, and
-- the caller builds it again from Postgres. `entries`: the sorted set's ZCARD, if the
-- caller has it already (each redis.call costs a script about a microsecond).
local function torn(scores_key, members_key, ready_key, entries)
  if redis.call('HLEN', members_key) < (entries or redis.call('ZCARD', scores_key)) then
    redis.call('DEL', ready_key)
    return true
  end
  return false
end
