-- Fill a cohort's index from Postgres (it was lost, or never built), unless another
-- worker filled it meanwhile.
-- KEYS[1] scores zset   KEYS[2] members hash   KEYS[3] ready marker
-- ARGV[1] the keys' time to live, ms
-- ARGV[2..] per member: Redis score, sequence (16 hex), player id
-- Returns 1 when filled, 0 when the index was ready already (then it is left as it is: it
-- holds everything the rows read here hold, and perhaps newer changes).
-- Why no lock: a change is only applied to a ready index; one that finds it missing
-- fills it (this script) and applies itself after, and a change is applied only when its
-- sequence is newer: whichever worker fills first, nothing committed is lost.
if redis.call('EXISTS', KEYS[3]) == 1 then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2])
for i = 2, #ARGV, 3 do
  redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1] .. ':' .. ARGV[i + 2])
  redis.call('HSET', KEYS[2], ARGV[i + 2], ARGV[i + 1])
end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[1])
for i = 1, 2 do
  redis.call('PEXPIRE', KEYS[i], ARGV[1])
end
return 1
