-- The digest of a batch of a rebuild's entries (read from one Postgres snapshot), added to
-- the rebuild's temporary digest; rebuild.py writes the entries themselves beside it.
-- KEYS[1]  new digest (temporary)
-- ARGV[1]  its time to live, ms (the rebuild lock's)
-- ARGV[2…] per entry: player id, Redis score, member ("<reached seq, 16 hex>:<player id>")
-- Returns: the number of entries added.
-- digest_change: index_digest.lua, prepended by scripts.py.
local added = 0
for i = 2, #ARGV, 3 do
  digest_change(KEYS[1], ARGV[i], false, false, ARGV[i + 1], ARGV[i + 2])
  added = added + 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return added
