-- Read a period's index in one atomic step: a page by position, the entries around a
-- player, one player's entry with the one above it, a list of players, or a histogram.
-- KEYS[1]  scores zset   KEYS[2]  members hash (player id → sequence)   KEYS[3]  ready marker
-- KEYS[4]  rebuild lock
-- ARGV[1]  the read:
--   "top"       ARGV[2] first position (0-based), ARGV[3] last position (inclusive)
--   "around"    ARGV[2] player id, ARGV[3] radius
--   "entry"     ARGV[2] player id: the entry and the one ranked just above it
--   "players"   ARGV[2…] player ids: those with an entry, each with its rank
--   "histogram" ARGV[2] buckets wanted (1-100); ARGV[3] "1" to lay them out from the
--               highest Redis score down (desc boards: from the lowest score up)
-- Returns: {status, total, first position, {member, score, …}, player rank}
--   status 1: read; -1: the index is not ready (lost or never built): rebuild, call again.
--   While a rebuild runs, the old index (if any) is still read.
--   around/entry: player rank is false (and the page empty) when the player has no entry.
--   players: the page is {member, score, rank, …} (best first), first position 0.
--   histogram: the page is {lowest, highest, width, count, count, …}: Redis scores, and
--     the entries in each bucket of `width` scores, the first bucket at the layout's start.
-- TOMBSTONE and member_of(player, hash value): from index_common.lua, loaded first.
if redis.call('EXISTS', KEYS[3]) == 0
    and not (redis.call('EXISTS', KEYS[4]) == 1 and redis.call('EXISTS', KEYS[1]) == 1) then
  return {-1}
end
local read = ARGV[1]
local total = redis.call('ZCARD', KEYS[1])
if read == 'top' then
  local first = tonumber(ARGV[2])
  return {1, total, first, redis.call('ZRANGE', KEYS[1], first, tonumber(ARGV[3]), 'WITHSCORES'), false}
end
local function rank_of(player)
  local value = redis.call('HGET', KEYS[2], player)
  if not value or value == TOMBSTONE then
    return false, false
  end
  local member = member_of(player, value)
  return redis.call('ZRANK', KEYS[1], member), member
end
if read == 'players' then
  local found = {}
  for i = 2, #ARGV do
    local rank, member = rank_of(ARGV[i])
    if rank then
      found[#found + 1] = {rank, member, redis.call('ZSCORE', KEYS[1], member)}
    end
  end
  table.sort(found, function(a, b) return a[1] < b[1] end)
  local flat = {}
  for _, entry in ipairs(found) do
    flat[#flat + 1] = entry[2]
    flat[#flat + 1] = entry[3]
    flat[#flat + 1] = entry[1]
  end
  return {1, total, 0, flat, false}
end
if read == 'histogram' then
  if total == 0 then
    return {1, 0, 0, {}, false}
  end
  local lowest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  local highest = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
  local span = highest - lowest + 1
  local width = math.ceil(span / tonumber(ARGV[2]))
  local out = {
    string.format('%d', lowest), string.format('%d', highest), string.format('%d', width),
  }
  for i = 0, math.ceil(span / width) - 1 do
    local from, to
    if ARGV[3] == '1' then
      to = highest - i * width
      from = math.max(lowest, to - width + 1)
    else
      from = lowest + i * width
      to = math.min(highest, from + width - 1)
    end
    out[#out + 1] = redis.call('ZCOUNT', KEYS[1], string.format('%d', from), string.format('%d', to))
  end
  return {1, total, 0, out, false}
end
local rank = rank_of(ARGV[2])
if not rank then  -- no entry, or a deleted player's tombstone
  return {1, total, 0, {}, false}
end
local first, last
if read == 'entry' then
  first, last = math.max(0, rank - 1), rank
else
  local radius = tonumber(ARGV[3])
  first, last = math.max(0, rank - radius), rank + radius
end
return {1, total, first, redis.call('ZRANGE', KEYS[1], first, last, 'WITHSCORES'), rank}
