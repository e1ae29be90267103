-- Apply a player's stored league score (committed in Postgres) to their cohort's index,
-- and announce every zone the change moves a player into, in one atomic step.
-- KEYS[1]  scores zset (member "<seq 16 hex>:<player id>", score negated on desc)
-- KEYS[2]  members hash (player id -> the 16-hex sequence of their member)
-- KEYS[3]  ready marker      KEYS[4]  the league's event stream
-- ARGV[1]  player id         ARGV[2]  Redis score       ARGV[3]  sequence (16 hex)
-- ARGV[4]  the cohort keys' time to live, ms
-- ARGV[5]  promotion places of this cohort (0 on the highest tier)
-- ARGV[6]  demotion places (0 on the lowest tier)
-- ARGV[7]  event channel (league:{<id>}:events); empty: publish nothing
-- ARGV[8]  the events' start: '{"type":"zone_changed","league":…,"season":…,"cohort":…'
-- ARGV[9]  their end: '"at":"…"'
-- ARGV[10] the stream's approximate maximum length   ARGV[11] its TTL, ms
-- ARGV[12] PUBLISH, or SPUBLISH on a Redis Cluster
-- ARGV[13] "1" when the player just joined the cohort and the index was filled from
--          Postgres since: if it holds exactly this change (the fill read it), announce
--          the player's arrival now (nobody else will: a fill publishes nothing)
-- Returns {status, previous rank (0: none), rank, members, zone, previous zone ('': none)}
--   status 1: applied, zone_changed events published for every player whose zone it
--   changed (the mover first, then the others by rank); 0: the index holds this change
--   or a newer one (nothing changes; ranks and zone are the current ones); 2: as 0, and
--   the arrival was announced (ARGV[13]); -1: the index is not ready (fill it from
--   Postgres, then call again); -2: the player was deleted.
-- TOMBSTONE (a deleted player's hash value, a constant); torn(): lib/index_torn.lua;
-- emit: events/emit.lua.
if redis.call('EXISTS', KEYS[3]) == 0 or torn(KEYS[1], KEYS[2], KEYS[3]) then
  return {-1}
end
local player, score, seq = ARGV[1], ARGV[2], ARGV[3]
local promote, demote = tonumber(ARGV[5]), tonumber(ARGV[6])

local function zone(rank, n)
  local promoted = math.min(promote, n)
  local demoted = math.min(demote, n - promoted)
  if rank <= promoted then
    return 'promote'
  end
  if rank > n - demoted then
    return 'demote'
  end
  return 'stay'
end

local n0 = redis.call('ZCARD', KEYS[1])
local current = redis.call('HGET', KEYS[2], player)
if current == TOMBSTONE then
  return {-2}
end
local old_rank = false
if current then
  old_rank = redis.call('ZRANK', KEYS[1], current .. ':' .. player) + 1
end
local function announce(event)
  if ARGV[7] ~= '' then
    emit(KEYS[4], ARGV[10], ARGV[11], ARGV[12], ARGV[7], ARGV[8]
      .. ',"player_id":"' .. event[1] .. '","zone":"' .. event[2]
      .. '","previous_zone":' .. (event[3] and ('"' .. event[3] .. '"') or 'null')
      .. ',"rank":' .. string.format('%d', event[4]) .. ',' .. ARGV[9])
  end
end

if current and seq <= current then
  local status = 0
  if ARGV[13] == '1' and current == seq then
    announce({player, zone(old_rank, n0), false, old_rank})
    status = 2
  end
  return {status, old_rank, old_rank, n0, zone(old_rank, n0), zone(old_rank, n0)}
end
if current then
  redis.call('ZREM', KEYS[1], current .. ':' .. player)
end
redis.call('ZADD', KEYS[1], score, seq .. ':' .. player)
redis.call('HSET', KEYS[2], player, seq)
for i = 1, 3 do
  redis.call('PEXPIRE', KEYS[i], ARGV[4])
end
local n1 = redis.call('ZCARD', KEYS[1])
local rank = redis.call('ZRANK', KEYS[1], seq .. ':' .. player) + 1
local new_zone = zone(rank, n1)
local old_zone = old_rank and zone(old_rank, n0) or false

-- Where the player now at rank r stood before this change.
local function rank_before(r)
  if not old_rank then
    return r > rank and r - 1 or r
  end
  if rank < old_rank and r > rank and r <= old_rank then
    return r - 1
  end
  if rank > old_rank and r >= old_rank and r < rank then
    return r + 1
  end
  return r
end

local moved = {}
if new_zone ~= old_zone then
  moved[1] = {player, new_zone, old_zone, rank}
end
-- Everyone else moved by one place at most, and the zones' edges by one at most (one
-- more member): a zone can only change for whoever stands next to an edge, before or
-- after. Those few places are compared; nobody else's zone can differ.
local others, seen = {}, {}
local p0 = math.min(promote, n0)
local p1 = math.min(promote, n1)
for _, edge in ipairs({p0, n0 - math.min(demote, n0 - p0), p1, n1 - math.min(demote, n1 - p1)}) do
  for r = edge - 1, edge + 2 do
    if r >= 1 and r <= n1 and r ~= rank and not seen[r] then
      seen[r] = true
      local was = zone(rank_before(r), n0)
      local now = zone(r, n1)
      if was ~= now then
        others[#others + 1] = r
      end
    end
  end
end
table.sort(others)
for _, r in ipairs(others) do
  local member = redis.call('ZRANGE', KEYS[1], r - 1, r - 1)[1]
  moved[#moved + 1] = {string.sub(member, 18), zone(r, n1), zone(rank_before(r), n0), r}
end
for _, event in ipairs(moved) do
  announce(event)
end
return {1, old_rank or 0, rank, n1, new_zone, old_zone or ''}
