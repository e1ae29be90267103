-- A prelude: check_session() resolves a session and slides its expiry, in one step.
-- session_touch.lua calls it alone; scores/admit.lua calls it before admitting a
-- submission whose session the worker has not checked yet (one round trip for both).
--
-- check_session(key, ttl_ms, refresh_ms):
-- key         the session hash
-- ttl_ms      idle TTL, ms
-- refresh_ms  least time between two extensions, ms (so a busy client does not write
--             on every call)
--
-- Returns {player_id, ms left before it expires}, or false when the session does not
-- exist (or is past its absolute maximum age, in which case it is deleted).

local function check_session(key, ttl_ms, refresh_ms)
  local fields = redis.call('HMGET', key, 'player_id', 'max_ms', 'touched_ms')
  if not fields[1] then
    return false
  end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local max_at = tonumber(fields[2])
  if now >= max_at then
    redis.call('DEL', key)
    return false
  end
  if now - tonumber(fields[3]) >= tonumber(refresh_ms) then
    redis.call('HSET', key, 'touched_ms', string.format('%d', now))
    redis.call('PEXPIREAT', key, string.format('%d', math.min(now + tonumber(ttl_ms), max_at)))
  end
  return {fields[1], redis.call('PTTL', key)}
end
