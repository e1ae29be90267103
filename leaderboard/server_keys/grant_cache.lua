-- The Redis copy of server keys, read on every call a game server makes.
-- KEYS[1]  serverkey:{<key id>}
-- ARGV[1]  "get"; "fill" with ARGV[2] value, ARGV[3] TTL ms (only where absent, so a
--          revocation written meanwhile stays); "revoke" with ARGV[2] TTL ms (always)
-- Returns: get: the value or false; fill: 1 when written, else 0; revoke: 1
if ARGV[1] == 'get' then
  return redis.call('GET', KEYS[1])
elseif ARGV[1] == 'fill' then
  if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then
    return 1
  end
  return 0
end
redis.call('SET', KEYS[1], 'revoked', 'PX', ARGV[2])
return 1
