-- Apply a player's stored score (as committed in Postgres) to a period's index, read the
-- ranks before and after, and announce the change, in one atomic step.
-- KEYS[1]  scores zset     KEYS[2]  members hash (player id → the 16-hex sequence of
--          the player's member)                    KEYS[3]  ready marker
-- KEYS[4]  rebuild lock    KEYS[5]  rebuild journal
-- KEYS[6]  the board's event stream (capped; the last events, for clients that resume)
-- KEYS[7]  digest (index_digest.lua)
-- ARGV[1]  player id
-- ARGV[2]  Redis score (the stored score, negated on desc boards)
-- ARGV[3]  member: "<reached seq as 16 hex digits>:<player id>"
-- ARGV[4]  the index keys' time to live, ms ("0": no TTL); relative, so the expiry
--          follows the service's clock whatever the Redis server's clock says
-- ARGV[5]  event channel (leaderboard:{<id>}:events); empty: publish nothing
-- ARGV[6]  the event's constant part: '{"type":"rank_changed","leaderboard":…,"period":…,
--          "player_id":…,"at":…' (JSON, without the closing brace)
-- ARGV[7]  "-1" on desc boards (Redis scores are negated there), else "1"
-- ARGV[8]  the stream's approximate maximum length
-- ARGV[9]  the stream's TTL, ms
-- ARGV[10] the publish command: PUBLISH, or SPUBLISH on a Redis Cluster
-- ARGV[11] "1" after a rebuild: if the index already holds exactly this member (the
--          rebuild read it from Postgres), announce it now (its previous rank and score
--          are unknown: null); nobody else will, since the rebuild publishes nothing
-- ARGV[12] how many of the nearest players passed get an "overtaken" event (0: none)
-- ARGV[13] the overtaken events' start: '{"type":"overtaken","leaderboard":…,"period":…'
-- ARGV[14] their constant middle: '"by":<mover>,"at":…' (JSON members, no braces)
-- Returns: {status, previous rank, previous Redis score, rank, Redis score, total}
--   status  1: applied (and one rank_changed event published); 0: Redis already holds
--           this change or a newer one (the member's sequence is not greater), so nothing
--           changed and nothing is published; 2: as 0, but the change was announced
--           (ARGV[11], after a rebuild); -1: the index is not ready (lost, never
--           built, or torn: see torn()): rebuild it, then call again; -2: the player
--           was deleted (the
--           members hash holds TOMBSTONE). Ranks are 0-based;
--           previous rank and score are false when the player had no entry.
-- Why the sequence check: two submissions of one player may reach Redis in the opposite
-- order of their Postgres commits; the older one must never overwrite the newer.
-- TOMBSTONE, member_of and journal: index_common.lua; torn: lib/index_torn.lua; emit:
-- events/emit.lua; digest_change: index_digest.lua.
if redis.call('EXISTS', KEYS[3]) == 0 or torn(KEYS[1], KEYS[2], KEYS[3]) then
  return {-1}
end
local player, score, member = ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('HGET', KEYS[2], player)
if current == TOMBSTONE then
  return {-2}
end
if current then
  current = member_of(player, current)
end
local previous_rank, previous_score = false, false
if current then
  previous_rank = redis.call('ZRANK', KEYS[1], current)
  previous_score = redis.call('ZSCORE', KEYS[1], current)
end
-- Events carry exact integers (cjson would print 2^53 - 1 as 9.007199254741e+15).
local function int(value)
  return string.format('%d', value)
end
local function announce(rank, previous_rank, previous_score)
  if ARGV[5] == '' then
    return
  end
  local sign = tonumber(ARGV[7])
  emit(KEYS[6], ARGV[8], ARGV[9], ARGV[10], ARGV[5], ARGV[6]
    .. ',"score":' .. int(sign * tonumber(score))
    .. ',"previous_score":' .. (previous_score and int(sign * tonumber(previous_score)) or 'null')
    .. ',"rank":' .. int(rank + 1)
    .. ',"previous_rank":' .. (previous_rank and int(previous_rank + 1) or 'null'))
end
-- The players the mover passed, nearest first: they now stand one place lower.
local function announce_overtaken(rank, previous_rank)
  local nearest = tonumber(ARGV[12])
  if ARGV[5] == '' or nearest == 0 then
    return
  end
  local last = rank + nearest
  if previous_rank then
    last = math.min(last, previous_rank)  -- no one below the old place was passed
  end
  if last <= rank then
    return
  end
  local passed = redis.call('ZRANGE', KEYS[1], rank + 1, last)
  for i, passed_member in ipairs(passed) do
    local position = rank + i  -- 0-based, now; one higher before
    emit(KEYS[6], ARGV[8], ARGV[9], ARGV[10], ARGV[5], ARGV[13]
      .. ',"player_id":"' .. string.sub(passed_member, 18) .. '",' .. ARGV[14]
      .. ',"rank":' .. int(position + 1)
      .. ',"previous_rank":' .. int(position))
  end
end

if current and string.sub(member, 1, 16) <= string.sub(current, 1, 16) then
  local status = 0
  if ARGV[11] == '1' and current == member and ARGV[5] ~= '' then
    announce(previous_rank, false, false)
    status = 2
  end
  return {
    status, previous_rank, previous_score,
    previous_rank, previous_score, redis.call('ZCARD', KEYS[1]),
  }
end
if current then
  redis.call('ZREM', KEYS[1], current)
end
redis.call('ZADD', KEYS[1], score, member)
digest_change(KEYS[7], player, previous_score, current, score, member)
redis.call('HSET', KEYS[2], player, string.sub(member, 1, 16))
if ARGV[4] ~= '0' then
  for _, i in ipairs({1, 2, 3, 7}) do
    redis.call('PEXPIRE', KEYS[i], ARGV[4])
  end
end
journal(KEYS[4], KEYS[5], player .. ' ' .. score .. ' ' .. member)
local rank = redis.call('ZRANK', KEYS[1], member)
announce(rank, previous_rank, previous_score)
if not previous_rank or rank < previous_rank then
  announce_overtaken(rank, previous_rank)
end
return {1, previous_rank, previous_score, rank, score, redis.call('ZCARD', KEYS[1])}
