-- Publish one batch of a closed season's season_ended events, exactly once: whoever
-- runs the close, however often a crash makes it start over.
-- KEYS[1] the batch's marker (league's hash tag)   KEYS[2] the league's event stream
-- ARGV[1] the marker's time to live, ms
-- ARGV[2] the stream's approximate maximum length   ARGV[3] its TTL, ms
-- ARGV[4] PUBLISH, or SPUBLISH on a Redis Cluster   ARGV[5] the league's event channel
-- ARGV[6..] the events, each JSON without its closing brace (emit adds the id)
-- Returns how many events it published: 0 when the batch went out before.
-- As emit() (events/emit.lua) each, but the stream's TTL is set once for the batch.
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return 0
end
for i = 6, #ARGV do
  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'event', ARGV[i] .. '}')
  redis.call(ARGV[4], ARGV[5], ARGV[i] .. ',"id":"' .. id .. '"}')
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return #ARGV - 5
