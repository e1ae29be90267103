-- Sliding-window log rate limiter: take_slot() decides and records one call in one
-- atomic step. A prelude: limit.lua calls it alone, scores/admit.lua with more.
--
-- take_slot(key, limit, window_ms, token):
-- key        the subject's log: a sorted set whose members are the accepted calls
--            ("<microseconds>-<token>") scored by their time in microseconds.
-- limit      most calls accepted in any window of window_ms (integer >= 1).
-- window_ms  the window length in milliseconds (integer >= 1).
-- token      a random string that keeps members unique when two calls get the
--            same microsecond.
--
-- Returns  {allowed, remaining, retry_after_ms, reset_ms}, all integers:
--   allowed         1 when the call was accepted and recorded, 0 when rejected.
--   remaining       calls still accepted now, after this one (0 when rejected).
--   retry_after_ms  0 when allowed; else milliseconds (rounded up, >= 1) until a
--                   call is accepted.
--   reset_ms        milliseconds (rounded up, >= 1) until the oldest counted call
--                   leaves the window, that is until one more call fits than now;
--                   when rejected, equal to retry_after_ms.
--
-- Time comes from the server (TIME), so app clocks never matter. A rejected call
-- runs read commands only: it records nothing and does not extend the TTL.

local function take_slot(key, limit_arg, window_ms, token)
  local limit = tonumber(limit_arg)
  local window_us = tonumber(window_ms) * 1000

  local time = redis.call('TIME')
  -- Seconds * 10^6 + micros stays below 2^53, so Lua's doubles hold it exactly.
  local now_us = tonumber(time[1]) * 1000000 + tonumber(time[2])
  -- A call at t counts while now - t < window: scores <= now - window are out.
  local edge_us = now_us - window_us

  -- Numbers are formatted with %.0f: Lua's own number-to-string ("%.14g") would
  -- round a 16-digit microsecond timestamp.
  local function fmt(n)
    return string.format('%.0f', n)
  end

  local function ceil_ms(us)
    return math.ceil(us / 1000)
  end

  local count = redis.call('ZCOUNT', key, '(' .. fmt(edge_us), '+inf')

  if count < limit then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(edge_us))
    redis.call('ZADD', key, fmt(now_us), fmt(now_us) .. '-' .. token)
    -- The newest call (this one) leaves the window after window_ms: so does the key.
    redis.call('PEXPIRE', key, window_ms)
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local reset_ms = ceil_ms(tonumber(oldest[2]) + window_us - now_us)
    return {1, limit - count - 1, 0, reset_ms}
  end

  -- Rejected. Normally count == limit; it is larger only after the policy's limit was
  -- lowered. A call fits once count - limit + 1 of the counted calls have left the
  -- window, that is once the one at (0-based) index count - limit has.
  local blocker = redis.call('ZRANGEBYSCORE', key, '(' .. fmt(edge_us), '+inf',
    'WITHSCORES', 'LIMIT', count - limit, 1)
  local retry_ms = ceil_ms(tonumber(blocker[2]) + window_us - now_us)
  return {0, 0, retry_ms, retry_ms}
end
