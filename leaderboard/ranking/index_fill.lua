-- Write a batch of a rebuild's entries (read from one Postgres snapshot) into its
-- temporary index, and their digest beside them, in one step.
-- KEYS[1]  new scores zset (temporary)   KEYS[2]  new members hash (temporary)
-- KEYS[3]  new digest (temporary)        KEYS[4]  rebuild lock
-- ARGV[1]  the lock's time to live, ms (every key of the rebuild gets it again)
-- ARGV[2…] per entry: player id, Redis score, member ("<reached seq, 16 hex>:<player id>")
-- Returns: the number of entries written.
-- digest_change: index_digest.lua, prepended by scripts.py.
local written = 0
for i = 2, #ARGV, 3 do
  local player, score, member = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  redis.call('ZADD', KEYS[1], score, member)
  redis.call('HSET', KEYS[2], player, string.sub(member, 1, 16))
  digest_change(KEYS[3], player, false, false, score, member)
  written = written + 1
end
for i = 1, 4 do
  redis.call('PEXPIRE', KEYS[i], ARGV[1])
end
return written
