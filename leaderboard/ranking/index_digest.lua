-- Prepended to the index scripts that change an index (scripts.py): its digest, a hash
-- bucket → "<entries> <lane 1> <lane 2> <id0> … <id5>" kept in the same step as the
-- sorted set, so the index guard can compare it with Postgres' (score_digests,
-- db/migrations/0011_score_digests.sql, which defines the same hash) bucket by bucket.
-- A bucket is the first three hex digits of the player id (field: its number, decimal).
-- Every step stays below 2^53: exact in Lua's doubles, equal to Postgres' bigints.
local DIGEST_P1, DIGEST_R1 = 67108859, 39916801
local DIGEST_P2, DIGEST_R2 = 67108837, 52402517
local DIGEST_SPLIT = 67108864  -- 2^26

-- An entry's bucket (field name), its two lanes and its six id chunks.
local function digest_entry(player, redis_score, seq_hex)
  local x = (string.gsub(player, '-', ''))
  local v = {
    tonumber(string.sub(x, 1, 6), 16), tonumber(string.sub(x, 7, 12), 16),
    tonumber(string.sub(x, 13, 18), 16), tonumber(string.sub(x, 19, 24), 16),
    tonumber(string.sub(x, 25, 30), 16), tonumber(string.sub(x, 31, 32), 16),
  }
  local s = tonumber(redis_score)
  local s_lo = s % DIGEST_SPLIT  -- exact: the divisor is a power of two
  v[7], v[8] = s_lo, (s - s_lo) / DIGEST_SPLIT + 2 * DIGEST_SPLIT
  local q = tonumber(string.sub(seq_hex, 1, 16), 16)
  local q_lo = q % DIGEST_SPLIT
  v[9], v[10] = q_lo, (q - q_lo) / DIGEST_SPLIT
  local h1, h2 = 0, 0
  for i = 1, 10 do
    h1 = math.fmod(h1 * DIGEST_R1 + v[i], DIGEST_P1)
    h2 = math.fmod(h2 * DIGEST_R2 + v[i], DIGEST_P2)
  end
  return tostring(math.floor(v[1] / 4096)), h1, h2, v
end

-- Add (sign 1) or take out (sign -1) an entry of the digest at key. A bucket back to all
-- zeros goes (the digest of an empty index is an empty hash).
local function digest_change(key, player, redis_score, seq_hex, sign)
  local field, h1, h2, v = digest_entry(player, redis_score, seq_hex)
  local d = {0, 0, 0, 0, 0, 0, 0, 0, 0}
  local held = redis.call('HGET', key, field)
  if held then
    local i = 1
    for n in string.gmatch(held, '%S+') do
      d[i] = tonumber(n)
      i = i + 1
    end
  end
  d[1] = d[1] + sign
  d[2] = math.fmod(d[2] + sign * h1 + DIGEST_P1, DIGEST_P1)
  d[3] = math.fmod(d[3] + sign * h2 + DIGEST_P2, DIGEST_P2)
  local zero = d[1] == 0 and d[2] == 0 and d[3] == 0
  for i = 1, 6 do
    d[3 + i] = d[3 + i] + sign * v[i]
    zero = zero and d[3 + i] == 0
  end
  if zero then
    redis.call('HDEL', key, field)
  else
    redis.call('HSET', key, field, string.format('%d %d %d %d %d %d %d %d %d', unpack(d)))
  end
end
