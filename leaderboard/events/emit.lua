-- Prepended to every script that publishes events (the board index's, the league cohorts'):
-- a Redis script cannot import another, so LuaScript.load puts this file before it.
-- Announce one event: into the topic's capped stream (for clients that resume), then to
-- the channel's subscribers with the stream id added (PUBLISH, or SPUBLISH on a cluster).
-- `event` is JSON without its closing brace. Returns the stream id.

-- The streams this run of the script has given their TTL already: a submission that
-- passes ten players announces eleven events per span into one stream, and one PEXPIRE
-- after the first XADD holds for all (an XADD keeps the key's TTL). A script's top-level
-- locals are made anew on every run.
local emit_expiring = {}

local function emit(stream_key, max_length, stream_ttl_ms, publish, channel, event)
  local id = redis.call('XADD', stream_key, 'MAXLEN', '~', max_length, '*', 'event', event .. '}')
  if not emit_expiring[stream_key] then
    redis.call('PEXPIRE', stream_key, stream_ttl_ms)
    emit_expiring[stream_key] = true
  end
  redis.call(publish, channel, event .. ',"id":"' .. id .. '"}')
  return id
end
