-- Read a period's index in one atomic step: a page by position, the entries around a
-- player, one player's entry with the one above it, a list of players, or a histogram.
-- KEYS[1]  scores zset   KEYS[2]  members hash (player id → sequence)   KEYS[3]  ready marker
-- KEYS[4]  rebuild lock   KEYS[5]  distinct scores zset
-- ARGV[1]  the read (its own arguments follow from ARGV[5]):
--   "top"       ARGV[5] first position (0-based), ARGV[6] last position (inclusive)
--   "around"    ARGV[5] player id, ARGV[6] radius
--   "entry"     ARGV[5] player id: the entry and the one ranked just above it
--   "players"   ARGV[5…] player ids: those with an entry, each with its rank
--   "histogram" ARGV[5] buckets wanted (1-100); ARGV[6] "1" to lay them out from the
--               highest Redis score down (desc boards: from the lowest score up)
-- ARGV[2], ARGV[3]  the profile cache's key around a player id ("<p>player:{", "}:profile"),
--          to read the entries' display names in the same call; "" for none (a Redis
--          Cluster, where the profiles live in other slots)
-- ARGV[4]  the rank style: "ordinal", "competition" or "dense" (docs/ranking.md)
-- Returns: {status, total, first position, {member, score, …}, player rank, names,
--           styled ranks, next better score}
--   status 1: read; -1: the index is not ready (lost, never built, or torn: see torn()):
--   rebuild, call again.
--   While a rebuild runs, the old index (if any) is still read.
--   around/entry: player rank is false (and the page empty) when the player has no entry.
--   players: the page is {member, score, rank, …} (best first), first position 0.
--   histogram: the page is {lowest, highest, width, count, count, …}: Redis scores, and
--     the entries in each bucket of `width` scores, the first bucket at the layout's start.
--   styled ranks: per entry of the page, its rank (1-based) in ARGV[4]'s style; {} for
--     "ordinal" (the positions are the ranks).
--   next better score: entry, in another style than "ordinal": the nearest Redis score
--     strictly better than the player's (false at the top), for `to_next`.
--   names: per entry of the page, its cached display name; 0 for a cached "no such
--     player"; false when not cached (or a write in progress); {} when not asked.
-- TOMBSTONE (from values.py) and member_of (index_common.lua): prepended by scripts.py.
local total = redis.call('ZCARD', KEYS[1])
if (redis.call('EXISTS', KEYS[3]) == 0 or torn(KEYS[1], KEYS[2], KEYS[3], total)
    or distinct_torn(KEYS[1], KEYS[5], KEYS[3], total))
    and not (redis.call('EXISTS', KEYS[4]) == 1 and total > 0) then
  return {-1}
end
local read, style = ARGV[1], ARGV[4]
-- The ranks in `style` of a page of consecutive entries ({member, score, …}), the first
-- at position `first`: one count for the first entry, the others follow from it (an
-- entry whose score differs from the one before is ranked after all above it).
local function styled_page(page, first)
  local out = {}
  if style == 'ordinal' then
    return out
  end
  local shown, previous = 0, nil
  for i = 1, #page, 2 do
    local position = first + (i - 1) / 2
    if previous == nil then
      shown = styled_rank(style, KEYS[1], KEYS[5], position, page[i + 1])
    elseif page[i + 1] ~= previous then
      shown = (style == 'competition') and position + 1 or shown + 1
    end
    previous = page[i + 1]
    out[#out + 1] = shown
  end
  return out
end
-- The display names of a page's members (every `step`-th element of `flat`).
local function names_of(flat, step)
  local out = {}
  if ARGV[2] == '' then
    return out
  end
  for i = 1, #flat, step do
    out[#out + 1] = cached_name(ARGV[2] .. string.sub(flat[i], 18) .. ARGV[3])
  end
  return out
end
if read == 'top' then
  local first = tonumber(ARGV[5])
  local page = redis.call('ZRANGE', KEYS[1], first, tonumber(ARGV[6]), 'WITHSCORES')
  return {1, total, first, page, false, names_of(page, 2), styled_page(page, first)}
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
  for i = 5, #ARGV do
    local rank, member = rank_of(ARGV[i])
    if rank then
      found[#found + 1] = {rank, member, redis.call('ZSCORE', KEYS[1], member)}
    end
  end
  table.sort(found, function(a, b) return a[1] < b[1] end)
  local flat, shown = {}, {}
  for _, entry in ipairs(found) do
    flat[#flat + 1] = entry[2]
    flat[#flat + 1] = entry[3]
    flat[#flat + 1] = entry[1]
    if style ~= 'ordinal' then
      shown[#shown + 1] = styled_rank(style, KEYS[1], KEYS[5], entry[1], entry[3])
    end
  end
  return {1, total, 0, flat, false, names_of(flat, 3), shown}
end
if read == 'histogram' then
  if total == 0 then
    return {1, 0, 0, {}, false, {}}
  end
  local lowest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  local highest = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
  local span = highest - lowest + 1
  local width = math.ceil(span / tonumber(ARGV[5]))
  local out = {
    string.format('%d', lowest), string.format('%d', highest), string.format('%d', width),
  }
  for i = 0, math.ceil(span / width) - 1 do
    local from, to
    if ARGV[6] == '1' then
      to = highest - i * width
      from = math.max(lowest, to - width + 1)
    else
      from = lowest + i * width
      to = math.min(highest, from + width - 1)
    end
    out[#out + 1] = redis.call('ZCOUNT', KEYS[1], string.format('%d', from), string.format('%d', to))
  end
  return {1, total, 0, out, false, {}}
end
local rank = rank_of(ARGV[5])
if not rank then  -- no entry, or a deleted player's tombstone
  return {1, total, 0, {}, false, {}}
end
local first, last
if read == 'entry' then
  first, last = math.max(0, rank - 1), rank
else
  local radius = tonumber(ARGV[6])
  first, last = math.max(0, rank - radius), rank + radius
end
local page = redis.call('ZRANGE', KEYS[1], first, last, 'WITHSCORES')
local better = false
if read == 'entry' and style ~= 'ordinal' then
  local score = page[#page]  -- the player's: the last of the page
  better = redis.call('ZREVRANGEBYSCORE', KEYS[1], '(' .. score, '-inf', 'WITHSCORES',
    'LIMIT', 0, 1)[2] or false
end
return {1, total, first, page, rank, names_of(page, 2), styled_page(page, first), better}
