-- The answers to submissions that carried an Idempotency-Key, kept 24 hours.
-- KEYS[1]  the answer key (idem:{<board>}:<player>:<sha-256 of the key>)
-- ARGV[1]  "get", or "put" with ARGV[2] the answer (JSON)
-- Returns: get: the answer or false; put: 1
if ARGV[1] == 'get' then
  return redis.call('GET', KEYS[1])
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', 86400000)
return 1
