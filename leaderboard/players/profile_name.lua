-- Prepended by the scripts that read display names from the profile cache (profile_names.lua,
-- and the index reads of ranking/index_read.lua, which fetch names with a page).
-- A cached profile's display name from its hash (cache.py writes it): the name; 0 for a
-- cached "no such player"; false when not cached (absent, or a tombstone of a write in
-- progress: ask Postgres).
local function cached_name(profile_key)
  local fields = redis.call('HMGET', profile_key, 'display_name', 'missing', 'tomb')
  if fields[3] then
    return false
  elseif fields[2] then
    return 0
  end
  return fields[1]
end
