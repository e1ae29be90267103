-- Prepended to the index scripts that change an index (scripts.py): its digest, a hash
-- bucket → "<entries> <lane 1> <lane 2> <id0> … <id6>" kept in the same step as the
-- sorted set, so the index guard can compare it with Postgres' (score_digests,
-- db/migrations/0011_score_digests.sql, which defines the same hash) bucket by bucket.
-- A bucket is the first three hex digits of the player id (field: its number, decimal).
-- An entry's hashed values: the player id in seven chunks along its dashes (hex digits
-- 1-4, 5-8, 10-13, 15-18, 20-23, 25-30, 31-36: 16 or 24 bits each), then the Redis score
-- and the sequence, each split at 2^26 (the score's high part offset by 2^27). A lane is
-- a polynomial hash of them modulo a prime below 2^26: every step stays below 2^53,
-- exact in Lua's doubles, equal to Postgres' bigints.
local DIGEST_P1, DIGEST_R1 = 67108859, 39916801
local DIGEST_P2, DIGEST_R2 = 67108837, 52402517
local DIGEST_SPLIT = 67108864  -- 2^26
local DIGEST_CHUNKS = {{1, 4}, {5, 8}, {10, 13}, {15, 18}, {20, 23}, {25, 30}, {31, 36}}

-- (h * r + v) mod p, exactly: Lua's % may be one p off when h * r + v is just below a
-- multiple of p (its quotient rounds up); the product itself is exact.
local function digest_step(h, r, v, p)
  local x = h * r + v
  local m = x % p
  if m < 0 then
    m = m + p
  elseif m >= p then
    m = m - p
  end
  return m
end

-- The player's part: bucket (field), id chunks, and both lanes after them.
local function digest_player(player)
  local ids, h1, h2 = {}, 0, 0
  for i, span in ipairs(DIGEST_CHUNKS) do
    local v = tonumber(string.sub(player, span[1], span[2]), 16)
    ids[i] = v
    h1 = digest_step(h1, DIGEST_R1, v, DIGEST_P1)
    h2 = digest_step(h2, DIGEST_R2, v, DIGEST_P2)
  end
  return tostring(math.floor(ids[1] / 16)), ids, h1, h2
end

-- Both lanes of an entry, from its player's part.
local function digest_lanes(h1, h2, redis_score, seq_hex)
  local s = tonumber(redis_score)
  local s_lo = s % DIGEST_SPLIT  -- exact: the divisor is a power of two
  local q = tonumber(string.sub(seq_hex, 1, 16), 16)
  local q_lo = q % DIGEST_SPLIT
  local values = {s_lo, (s - s_lo) / DIGEST_SPLIT + 2 * DIGEST_SPLIT, q_lo, (q - q_lo) / DIGEST_SPLIT}
  for i = 1, 4 do
    h1 = digest_step(h1, DIGEST_R1, values[i], DIGEST_P1)
    h2 = digest_step(h2, DIGEST_R2, values[i], DIGEST_P2)
  end
  return h1, h2
end

-- A player's entry changes in the digest at key: ``old_score``/``old_seq`` the entry taken
-- out (false: none), ``new_score``/``new_seq`` the one put in (false: none); seq: the
-- member or its 16-hex sequence. One read and one write of the bucket; a bucket back to
-- all zeros goes (the digest of an empty index is an empty hash).
local function digest_change(key, player, old_score, old_seq, new_score, new_seq)
  local field, ids, p1, p2 = digest_player(player)
  local count, d1, d2 = 0, 0, 0
  if old_score then
    local h1, h2 = digest_lanes(p1, p2, old_score, old_seq)
    count, d1, d2 = -1, DIGEST_P1 - h1, DIGEST_P2 - h2
  end
  if new_score then
    local h1, h2 = digest_lanes(p1, p2, new_score, new_seq)
    count, d1, d2 = count + 1, d1 + h1, d2 + h2
  end
  local d = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
  local held = redis.call('HGET', key, field)
  if held then
    d = {string.match(held, '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$')}
    for i = 1, 10 do
      d[i] = tonumber(d[i])
    end
  end
  d[1] = d[1] + count
  d[2] = (d[2] + d1) % DIGEST_P1  -- below 3 p: exact
  d[3] = (d[3] + d2) % DIGEST_P2
  local zero = d[1] == 0 and d[2] == 0 and d[3] == 0
  for i = 1, 7 do
    d[3 + i] = d[3 + i] + count * ids[i]
    zero = zero and d[3 + i] == 0
  end
  if zero then
    redis.call('HDEL', key, field)
  else
    redis.call('HSET', key, field, string.format('%d %d %d %d %d %d %d %d %d %d', unpack(d)))
  end
end
