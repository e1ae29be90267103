-- One change of an index, as a function of its own KEYS and ARGV: index_apply.lua runs
-- one, index_apply_spans.lua one per span of a submission (the parameters shadow the
-- script's globals, so the body reads as a script of its own).
-- Apply a player's stored score (as committed in Postgres) to a period's index, read the
-- ranks before and after, and announce the change, in one atomic step.
-- KEYS[1]  scores zset     KEYS[2]  members hash (player id → the 16-hex sequence of
--          the player's member)                    KEYS[3]  ready marker
-- KEYS[4]  rebuild lock    KEYS[5]  rebuild journal
-- KEYS[6]  the board's event stream (capped; the last events, for clients that resume)
-- KEYS[7]  distinct scores zset: kept with the scores zset, for dense ranks
--          (index_common.lua)
-- KEYS[8…13] (segmented boards, when the player has a country): that country's index of
--          the period: scores, members, ready, rebuild lock, journal, distinct. Changed
--          alike (no events) when it is built; noted in its journal while it is rebuilt;
--          else left alone (it is built from Postgres when first read).
-- KEYS[#KEYS] (the last)  digest (index_digest.lua)
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
-- ARGV[15] the board's rank style: "ordinal", "competition" or "dense"; the events and
--          the last two values returned number ranks so (docs/ranking.md)
-- Returns: {status, previous rank, previous Redis score, rank, Redis score, total,
--           previous rank in the board's style (1-based), rank in it (1-based)}
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
-- events/emit.lua.
local function apply_change(KEYS, ARGV)
  if redis.call('EXISTS', KEYS[3]) == 0 then
    return {-1}
  end
  local entries = redis.call('ZCARD', KEYS[1])
  if torn(KEYS[1], KEYS[2], KEYS[3], entries) or distinct_torn(KEYS[1], KEYS[7], KEYS[3], entries) then
    return {-1}
  end
  local style = ARGV[15]
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
  -- The previous rank in the board's style, before anything moves.
  local previous_shown = previous_rank
    and styled_rank(style, KEYS[1], KEYS[7], previous_rank, previous_score)
  -- Events carry exact integers (cjson would print 2^53 - 1 as 9.007199254741e+15).
  local function int(value)
    return string.format('%d', value)
  end
  local function announce(shown, previous_shown, previous_score)
    if ARGV[5] == '' then
      return
    end
    local sign = tonumber(ARGV[7])
    emit(KEYS[6], ARGV[8], ARGV[9], ARGV[10], ARGV[5], ARGV[6]
      .. ',"score":' .. int(sign * tonumber(score))
      .. ',"previous_score":' .. (previous_score and int(sign * tonumber(previous_score)) or 'null')
      .. ',"rank":' .. int(shown)
      .. ',"previous_rank":' .. (previous_shown and int(previous_shown) or 'null'))
  end
  -- The players the mover passed, nearest first: they now stand one place lower (in
  -- competition ranks too: the mover now counts as better; in dense ranks only if the
  -- mover's score is new to the board, `new_score`).
  local function announce_overtaken(rank, previous_rank, new_score)
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
    local passed = redis.call('ZRANGE', KEYS[1], rank + 1, last, 'WITHSCORES')
    local shown, shown_score = 0, nil
    for i = 1, #passed, 2 do
      local position = rank + (i + 1) / 2  -- 0-based, now; one higher before
      if passed[i + 1] ~= shown_score then  -- tied entries share their rank
        shown_score = passed[i + 1]
        shown = styled_rank(style, KEYS[1], KEYS[7], position, shown_score)
      elseif style == 'ordinal' then
        shown = position + 1
      end
      local before = shown - 1
      if style == 'dense' and not new_score then
        before = shown
      end
      emit(KEYS[6], ARGV[8], ARGV[9], ARGV[10], ARGV[5], ARGV[13]
        .. ',"player_id":"' .. string.sub(passed[i], 18) .. '",' .. ARGV[14]
        .. ',"rank":' .. int(shown)
        .. ',"previous_rank":' .. int(before))
    end
  end

  -- The same change in the player's country segment, if any (older changes refused alike).
  local function put_segment()
    if #KEYS < 13 then
      return
    end
    if redis.call('EXISTS', KEYS[10]) == 1 then
      local held = redis.call('HGET', KEYS[9], player)
      if held ~= TOMBSTONE and (not held or string.sub(member, 1, 16) > string.sub(held, 1, 16)) then
        if held then
          take_member(KEYS[8], KEYS[13], member_of(player, held))
        end
        redis.call('ZADD', KEYS[8], score, member)
        redis.call('HSET', KEYS[9], player, string.sub(member, 1, 16))
        distinct_add(KEYS[13], score)
        if ARGV[4] ~= '0' then
          for _, key in ipairs({KEYS[8], KEYS[9], KEYS[10], KEYS[13]}) do
            redis.call('PEXPIRE', key, ARGV[4])
          end
        end
      end
    end
    journal(KEYS[11], KEYS[12], player .. ' ' .. score .. ' ' .. member)
  end

  if current and string.sub(member, 1, 16) <= string.sub(current, 1, 16) then
    put_segment()
    local status = 0
    if ARGV[11] == '1' and current == member and ARGV[5] ~= '' then
      announce(previous_shown, false, false)
      status = 2
    end
    return {
      status, previous_rank, previous_score,
      previous_rank, previous_score, entries,  -- nothing above changed the scores zset
      previous_shown, previous_shown,
    }
  end
  if current then
    take_member(KEYS[1], KEYS[7], current, previous_score)
  end
  redis.call('ZADD', KEYS[1], score, member)
  digest_change(KEYS[#KEYS], player, previous_score, current, score, member)
  redis.call('HSET', KEYS[2], player, string.sub(member, 1, 16))
  local new_score = distinct_add(KEYS[7], score)
  if ARGV[4] ~= '0' then
    for _, key in ipairs({KEYS[1], KEYS[2], KEYS[3], KEYS[7], KEYS[#KEYS]}) do
      redis.call('PEXPIRE', key, ARGV[4])
    end
  end
  journal(KEYS[4], KEYS[5], player .. ' ' .. score .. ' ' .. member)
  put_segment()
  local rank = redis.call('ZRANK', KEYS[1], member)
  local shown = styled_rank(style, KEYS[1], KEYS[7], rank, score)
  announce(shown, previous_shown, previous_score)
  if not previous_rank or rank < previous_rank then
    announce_overtaken(rank, previous_rank, new_score)
  end
  return {
    1, previous_rank, previous_score, rank, score, redis.call('ZCARD', KEYS[1]),
    previous_shown, shown,
  }
end
