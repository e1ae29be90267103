-- Take this round's check of a period's index and read what the check needs, at once.
-- KEYS[1]  check lock     KEYS[2]  ready marker   KEYS[3]  scores zset
-- KEYS[4]  members hash   KEYS[5]  cursors hash   KEYS[6]  the board's suspects
-- KEYS[7]  digest
-- ARGV[1]  the check interval, ms (the lock's TTL: one check per interval, any worker)
-- ARGV[2]  now, ms since the epoch (suspects kept until then are dropped)
-- Returns: {0} when another worker checks it this round; else
--   {1, ready marker value or false, zcard, members hash fields (HLEN),
--    player cursor or false, rank cursor or false, {suspect, …},
--    {bucket, digest, bucket, digest, …}}
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) == false then
  return {0}
end
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', ARGV[2])
local cursors = redis.call('HMGET', KEYS[5], 'player', 'rank')
return {
  1,
  redis.call('GET', KEYS[2]),
  redis.call('ZCARD', KEYS[3]),
  redis.call('HLEN', KEYS[4]),
  cursors[1],
  cursors[2],
  redis.call('ZRANGE', KEYS[6], 0, -1),
  redis.call('HGETALL', KEYS[7]),
}
