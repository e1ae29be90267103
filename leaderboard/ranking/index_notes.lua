-- Small bookkeeping writes of the index check, each with its TTL in the same step.
-- KEYS[1]  the key to write: a cursors hash ("cursors") or a board's suspects ("suspect")
-- ARGV[1]  "cursors": ARGV[2] player cursor, ARGV[3] rank cursor (TTL 1 day)
--          "suspect": ARGV[2] "<period key>|<player id>", ARGV[3] keep until (ms since
--          the epoch; the key lives an hour past the last one added)
-- Returns: 1
if ARGV[1] == 'cursors' then
  redis.call('HSET', KEYS[1], 'player', ARGV[2], 'rank', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], 86400000)
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], 3600000)
end
return 1
