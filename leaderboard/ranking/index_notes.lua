-- Small bookkeeping writes of the index check, each with its TTL in the same step.
-- KEYS[1]  the key to write: a cursors hash ("cursors"), a board's suspects ("suspect"),
--          or an index's digest ("digest")
-- ARGV[1]  "cursors": ARGV[2] player cursor, ARGV[3] rank cursor (TTL 1 day)
--          "suspect": ARGV[2] "<period key>|<player id>", ARGV[3] keep until (ms since
--          the epoch; the key lives an hour past the last one added)
--          "digest": ARGV[2] bucket, ARGV[3] its digest as the caller saw it, ARGV[4] the
--          digest to set instead; only if it is still ARGV[3] (it keeps its TTL), and
--          only where there is one (a digest the index no longer has stays gone)
-- Returns: 1; "digest": 1 when set, 0 when the bucket changed meanwhile.
if ARGV[1] == 'cursors' then
  redis.call('HSET', KEYS[1], 'player', ARGV[2], 'rank', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], 86400000)
elseif ARGV[1] == 'digest' then
  if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3] then
    return 0
  end
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], 3600000)
end
return 1
