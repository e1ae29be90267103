-- Resolve a session and slide its expiry, in one step.
-- KEYS[1]  the session hash
-- ARGV[1]  idle TTL, ms
-- ARGV[2]  least time between two extensions, ms (so a busy client does not write on every call)
-- Returns: {player_id, ms left before it expires}, or false when the session does not
--          exist (or is past its absolute maximum age, in which case it is deleted).
local fields = redis.call('HMGET', KEYS[1], 'player_id', 'max_ms', 'touched_ms')
if not fields[1] then
  return false
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max_at = tonumber(fields[2])
if now >= max_at then
  redis.call('DEL', KEYS[1])
  return false
end
if now - tonumber(fields[3]) >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'touched_ms', string.format('%d', now))
  redis.call('PEXPIREAT', KEYS[1], string.format('%d', math.min(now + tonumber(ARGV[1]), max_at)))
end
return {fields[1], redis.call('PTTL', KEYS[1])}
