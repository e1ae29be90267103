-- One hot board: POST one score for each line of BENCH_BODIES (a JSON body per line: a
-- distinct player each), each exactly once, over all connections at once, as the holder
-- of a server key (BENCH_TOKEN); then stop. delay() hands out the bodies: a connection
-- that finds none left waits (an hour) instead of sending more; the last answer stops
-- the thread and interrupts wrk's main thread (SIGINT, as Ctrl-C would), so the run's
-- duration ends with the burst instead of at -d.
local C = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ffi = require("ffi")
ffi.cdef("int kill(int pid, int sig); int getpid(void);")
local bodies = C.lines(os.getenv("BENCH_BODIES"))
local path = "/v1/leaderboards/" .. os.getenv("BENCH_BOARD") .. "/scores"
local granted, sent, answered, shown = 0, 0, 0, 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")

delay = function()
  if granted < #bodies then
    granted = granted + 1
    return 0
  end
  return 3600000
end

request = function()
  if granted == 0 then  -- wrk's own check of the script before the run: not sent
    return wrk.format(nil, path, nil, bodies[1])
  end
  sent = sent + 1
  return wrk.format(nil, path, nil, bodies[sent])
end

response = function(status, headers, body)
  answered = answered + 1
  if status > 299 and shown < 3 then  -- the first few, for the console (bench/wrk.py)
    shown = shown + 1
    io.write("BENCH_ANSWER ", status, " ", (string.sub(body or "", 1, 200):gsub("\n", " ")), "\n")
  end
  if answered == #bodies then
    wrk.thread:stop()
    ffi.C.kill(ffi.C.getpid(), 2)
  end
end

done = C.done
