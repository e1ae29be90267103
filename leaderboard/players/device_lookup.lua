-- The player a device signs in as, from the device directory (players/devices.py).
-- KEYS[1]  the device's entry ({prefix}device:{<device sha-256, hex>})
-- ARGV[1]  TTL, ms: a found entry lives this long again (a device in use stays known)
-- Returns: the player id; false when the entry is absent or a tombstone ("!": the
--          player is being banned or deleted; ask Postgres).
local player = redis.call('GET', KEYS[1])
if not player or player == '!' then
  return false
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return player
