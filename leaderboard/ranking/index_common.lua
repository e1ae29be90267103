-- Prepended to every index script by scripts.py (a Redis script cannot import another),
-- after the constants the Python side defines and events/emit.lua (emit): TOMBSTONE
-- (values.py), a removed player's members-hash value, greater than every sequence, so
-- that a late write of a score committed before the removal is refused.
-- The members hash maps a player to the 16-hex sequence of their member
-- ("<sequence>:<player id>"); indexes written before this held the whole member, and
-- both read the same.

-- The player's member from their members-hash value (the caller checks TOMBSTONE first).
local function member_of(player, value)
  if #value == 16 then
    return value .. ':' .. player
  end
  return value
end

-- A rebuild holding lock_key now builds from a Postgres snapshot that may predate this
-- change: note it in the journal, which the rebuild replays before swapping its index
-- in (index_swap.lua), and which lives exactly as long as the lock.
local function journal(lock_key, journal_key, entry)
  local lock_ttl = redis.call('PTTL', lock_key)
  if lock_ttl > 0 then
    redis.call('RPUSH', journal_key, entry)
    redis.call('PEXPIRE', journal_key, lock_ttl)
  end
end

-- The distinct scores (docs/ranking.md, shared ranks): a sorted set of the distinct Redis
-- scores of the index, kept with every change of the scores zset, so that a dense rank is
-- one ZCOUNT on it. Whether a score is still held is itself one ZCOUNT on the scores zset
-- (O(log N)), so the set needs no counts and mends itself wherever a script touches a
-- score, even after a score was changed behind its back.
-- A score as the distinct set names it: the integer, in decimal.
local function score_name(score)
  return string.format('%d', tonumber(score))
end

-- A score an entry now holds; returns true when no entry held it before.
local function distinct_add(distinct_key, score)
  local name = score_name(score)
  return redis.call('ZADD', distinct_key, name, name) == 1
end

-- A score an entry left: it leaves the distinct set when no entry holds it any more.
local function distinct_left(scores_key, distinct_key, score)
  if redis.call('ZCOUNT', scores_key, score, score) == 0 then
    redis.call('ZREM', distinct_key, score_name(score))
  end
end

-- Take a member out of a scores zset, and its score out of the distinct scores if no one
-- else holds it; returns its Redis score (false when the member was not there). `score`:
-- the member's ZSCORE, if the caller read it already.
local function take_member(scores_key, distinct_key, member, score)
  if score == nil then
    score = redis.call('ZSCORE', scores_key, member)
  end
  if score then
    redis.call('ZREM', scores_key, member)
    distinct_left(scores_key, distinct_key, score)
  end
  return score
end

-- A rank as `style` numbers it ("ordinal", "competition" or "dense"), of the entry at
-- 0-based position `position` holding Redis score `score`, in the index as it is now:
-- competition counts the strictly better entries, dense the distinct better scores.
local function styled_rank(style, scores_key, distinct_key, position, score)
  if style == 'competition' then
    return redis.call('ZCOUNT', scores_key, '-inf', '(' .. score) + 1
  elseif style == 'dense' then
    return redis.call('ZCOUNT', distinct_key, '-inf', '(' .. score) + 1
  end
  return position + 1
end

-- Whether the distinct scores were lost or torn from the scores zset (Redis lost the key,
-- or the index was built before it existed): then the index counts as not built, as
-- with torn(), and is built again from Postgres. `entries`: as torn() takes it.
local function distinct_torn(scores_key, distinct_key, ready_key, entries)
  entries = entries or redis.call('ZCARD', scores_key)
  local distinct = redis.call('ZCARD', distinct_key)
  if (entries > 0) ~= (distinct > 0) or distinct > entries then
    redis.call('DEL', ready_key)
    return true
  end
  return false
end
