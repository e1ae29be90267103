-- Write a player's cache entry unless the cache already holds a newer version of it.
-- KEYS[1]  the profile hash ({prefix}player:{<id>}:profile)
-- ARGV[1]  version of what is written (the row's version; 0 for "never existed")
-- ARGV[2]  TTL, ms
-- ARGV[3]  kind: "value" (a profile), "missing" (no such player) or "tomb" (a write is
--          committing this version: readers must not fill anything older)
-- ARGV[4…] field, value, field, value … (kind "value" only)
-- Returns: 1 when written, 0 when refused.
--
-- Why: a reader that read an old row before a writer committed must not put that row
-- back after the writer invalidated the cache. Every entry carries its version `v`; a
-- fill never replaces a newer version, nor the same version unless that is a tombstone.
local version = tonumber(ARGV[1])
local kind = ARGV[3]
local current = redis.call('HMGET', KEYS[1], 'v', 'tomb')
if current[1] then
  local current_version = tonumber(current[1])
  if current_version > version then
    return 0
  end
  if current_version == version and kind ~= 'tomb' and not current[2] then
    return 0
  end
end
redis.call('DEL', KEYS[1])
if kind == 'value' then
  redis.call('HSET', KEYS[1], 'v', ARGV[1], unpack(ARGV, 4))
elseif kind == 'missing' then
  redis.call('HSET', KEYS[1], 'v', ARGV[1], 'missing', '1')
else
  redis.call('HSET', KEYS[1], 'v', ARGV[1], 'tomb', '1')
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
