-- Add a rebuild batch's scores to the distinct scores being rebuilt (index_common.lua):
-- one call per batch, instead of a command per score.
-- KEYS[1]  distinct scores zset (temporary)   KEYS[2]  counts hash (temporary)
-- ARGV[1]  their time to live, ms (the rebuild lock's)
-- ARGV[2…] pairs: a Redis score (an integer), how many entries of the batch hold it
-- Returns: how many of the scores were new to the distinct set
local new = 0
for i = 2, #ARGV, 2 do
  if redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) == tonumber(ARGV[i + 1]) then
    redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i])
    new = new + 1
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return new
