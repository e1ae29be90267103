-- Remove a player's entry from a period's index.
-- For good (the player was deleted): the members hash keeps TOMBSTONE (greater than every
-- sequence number) so that a late index write of a score committed before the deletion
-- is refused. Otherwise (an entry Postgres does not have) the player may come back.
-- KEYS[1]  scores zset   KEYS[2]  members hash   KEYS[3]  rebuild lock   KEYS[4]  journal
-- KEYS[5]  the board's event stream (a key of the same slot when no event is published)
-- KEYS[6]  distinct scores zset (index_common.lua)
-- KEYS[7]  digest (index_digest.lua; changed only if it exists, as the members hash)
-- ARGV[1]  player id
-- ARGV[2]  "1": for good (TOMBSTONE); "0": just the entry
-- ARGV[3]  event channel; empty: publish nothing.  ARGV[4] the event (JSON without its
--          closing brace).  ARGV[5] the stream's approximate maximum length.
-- ARGV[6]  the stream's TTL, ms.  ARGV[7] PUBLISH, or SPUBLISH on a Redis Cluster
-- Returns: 1 when the player had an entry (and the event was published), else 0.
-- TOMBSTONE, member_of and journal: from index_common.lua; emit: events/emit.lua.
local current = redis.call('HGET', KEYS[2], ARGV[1])
if current == TOMBSTONE then  -- removed already
  current = false
end
if current then
  local member = member_of(ARGV[1], current)
  local score = redis.call('ZSCORE', KEYS[1], member)
  take_member(KEYS[1], KEYS[6], member)
  if score and redis.call('EXISTS', KEYS[7]) == 1 then
    digest_change(KEYS[7], ARGV[1], score, member, false, false)
  end
end
-- Only in an index that exists: an expired past period must not come back as a
-- members hash without a TTL; a rebuild of it reads Postgres, where the player is gone.
if ARGV[2] == '1' then
  if redis.call('EXISTS', KEYS[2]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[1], TOMBSTONE)
  end
elseif current then
  redis.call('HDEL', KEYS[2], ARGV[1])
end
-- A rebuild running now may have read the entry from Postgres before it went: note the
-- removal, so the rebuild replays it ("-": for good, "~": just the entry).
journal(KEYS[3], KEYS[4], ARGV[1] .. ((ARGV[2] == '1') and ' - -' or ' ~ ~'))
if current and ARGV[3] ~= '' then
  emit(KEYS[5], ARGV[5], ARGV[6], ARGV[7], ARGV[3], ARGV[4])
end
if current then
  return 1
end
return 0
