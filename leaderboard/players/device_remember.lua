-- Remember which player a device signs in as, unless a tombstone (or anything) is there.
-- KEYS[1]  the device's entry ({prefix}device:{<device sha-256, hex>})
-- ARGV[1]  the player id, as Postgres answered it
-- ARGV[2]  TTL, ms
-- Returns: 1 when written, 0 when the key was there (a ban or deletion's tombstone,
--          written before it committed: the row this caller read may be stale).
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
