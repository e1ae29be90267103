-- Create a session and register it with its player, in one atomic step.
-- KEYS[1]  the session hash       ({prefix}session:{<player_id>}:<token sha-256>)
-- KEYS[2]  the player's session set ({prefix}player:{<player_id>}:sessions)
-- ARGV[1]  player id
-- ARGV[2]  idle TTL, ms
-- ARGV[3]  absolute maximum age, ms
-- ARGV[4]  token sha-256 (the member added to KEYS[2])
-- ARGV[5]  the player's session key prefix ({prefix}session:{<player_id>}:), to drop
--          members whose session has expired once the set grows past 16
-- Returns: the session's expiry as ms since the epoch (Redis clock).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max_at = now + tonumber(ARGV[3])
local expires_at = math.min(now + tonumber(ARGV[2]), max_at)
redis.call('HSET', KEYS[1],
  'player_id', ARGV[1],
  'created_ms', string.format('%d', now),
  'max_ms', string.format('%d', max_at),
  'touched_ms', string.format('%d', now))
redis.call('PEXPIREAT', KEYS[1], string.format('%d', expires_at))
redis.call('SADD', KEYS[2], ARGV[4])
-- Expired sessions leave their hash in the set; a player who signs in often would grow
-- it for ever. Their keys share the {<player_id>} hash tag, so they are in this slot.
if redis.call('SCARD', KEYS[2]) > 16 then
  for _, token_hash in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if redis.call('EXISTS', ARGV[5] .. token_hash) == 0 then
      redis.call('SREM', KEYS[2], token_hash)
    end
  end
end
-- The set lives as long as the longest-lived session it lists could.
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then
  redis.call('PEXPIREAT', KEYS[2], string.format('%d', max_at))
end
return expires_at
