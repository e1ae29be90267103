-- Prepended to every script that publishes events (the board index's, the league cohorts'):
-- a Redis script cannot import another, so LuaScript.load puts this file before it.
-- Announce one event: into the topic's capped stream (for clients that resume), then to
-- the channel's subscribers with the stream id added (PUBLISH, or SPUBLISH on a cluster). `event` is JSON without its
-- closing brace. Returns the stream id.
local function emit(stream_key, max_length, stream_ttl_ms, publish, channel, event)
  local id = redis.call('XADD', stream_key, 'MAXLEN', '~', max_length, '*', 'event', event .. '}')
  redis.call('PEXPIRE', stream_key, stream_ttl_ms)
  redis.call(publish, channel, event .. ',"id":"' .. id .. '"}')
  return id
end
