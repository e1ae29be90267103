-- Shared by every wrk script of the benchmark: reading id lists, and one JSON line of
-- results (exact percentiles from wrk's histogram) that bench/wrk.py parses.
local M = {}

function M.lines(path)
  local t = {}
  for line in io.lines(path) do
    if #line > 0 then t[#t + 1] = line end
  end
  return t
end

-- Optional pacing (BENCH_DELAY_MS): each connection waits a random 0..2×delay ms before
-- each request, so the arrivals are spread out; wrk2 is not available here.
function M.install_delay()
  local d = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
  if d and d > 0 then
    delay = function() return math.random(0, math.floor(2 * d)) end
  end
end

-- Counters that a script keeps per thread (globals named in `names`, e.g. changed): wrk
-- runs done() in a Lua state of its own, which reads each thread's globals through the
-- thread objects that setup() saw. M.counted(names) returns setup and done for that.
function M.counted(names)
  local threads = {}
  local function setup(thread)
    threads[#threads + 1] = thread
  end
  local function done(summary, latency, requests)
    local extra = {}
    for _, name in ipairs(names) do
      local total = 0
      for _, t in ipairs(threads) do total = total + (t:get(name) or 0) end
      extra[name] = total
    end
    M.done(summary, latency, requests, extra)
  end
  return setup, done
end

-- The result line; `extra` (optional) adds counters as "count_<name>" fields.
function M.done(summary, latency, requests, extra)
  local e = summary.errors
  local more = ""
  for name, value in pairs(extra or {}) do
    more = more .. string.format(',"count_%s":%d', name, value)
  end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,' ..
    '"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"mean_us":%.1f,"max_us":%d%s}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.mean, latency.max, more))
end

return M
