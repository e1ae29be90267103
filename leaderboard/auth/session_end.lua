-- End one session, or all of a player's sessions, at once.
-- KEYS[1]  the player's session set
-- ARGV[1]  the session key prefix for this player ({prefix}session:{<player_id>}:)
-- ARGV[2]  one token sha-256 to end; empty string: end every session in the set
-- Returns: the number of sessions deleted.
-- The session keys are built here from the set's members: they share the {<player_id>}
-- hash tag with KEYS[1], so on a cluster they are in the same slot as the declared key.
local deleted = 0
if ARGV[2] ~= '' then
  deleted = redis.call('DEL', ARGV[1] .. ARGV[2])
  redis.call('SREM', KEYS[1], ARGV[2])
  return deleted
end
for _, token_hash in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  deleted = deleted + redis.call('DEL', ARGV[1] .. token_hash)
end
redis.call('DEL', KEYS[1])
return deleted
