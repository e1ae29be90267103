-- POST each line of BENCH_BODIES to BENCH_PATH exactly once, over all connections at
-- once, then stop. A line is "<session token> <JSON body>", or "- <JSON body>" to send no
-- Authorization. delay() hands out the lines: a connection that finds none left waits (an
-- hour) instead of sending more; the last answer stops the thread and interrupts wrk's
-- main thread (SIGINT, as Ctrl-C would), so the run's duration ends with the last answer
-- instead of at -d. With BENCH_PRINT=1 each 2xx answer's body is printed on a line of its
-- own ("BENCH_BODY <body>", bench/wrk.py keeps them): how sign-ins hand back their tokens.
-- Uses: one hot board (many players submitting at once), signing devices in, seeding
-- boards (bench/measure_hot.py, bench/players.py).
local C = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ffi = require("ffi")
ffi.cdef("int kill(int pid, int sig); int getpid(void);")
local tokens, bodies = {}, {}
for i, line in ipairs(C.lines(os.getenv("BENCH_BODIES"))) do
  local space = string.find(line, " ", 1, true)
  tokens[i], bodies[i] = string.sub(line, 1, space - 1), string.sub(line, space + 1)
end
local path = os.getenv("BENCH_PATH")
local print_bodies = os.getenv("BENCH_PRINT") == "1"
local headers = { ["Content-Type"] = "application/json" }
local granted, sent, answered, shown = 0, 0, 0, 0

delay = function()
  if granted < #bodies then
    granted = granted + 1
    return 0
  end
  return 3600000
end

request = function()
  local i = granted == 0 and 1 or sent + 1  -- granted 0: wrk's own check, not sent
  if granted > 0 then sent = i end
  headers["Authorization"] = tokens[i] ~= "-" and ("Bearer " .. tokens[i]) or nil
  return wrk.format("POST", path, headers, bodies[i])
end

response = function(status, _, body)
  answered = answered + 1
  if status > 299 and shown < 3 then  -- the first few, for the console (bench/wrk.py)
    shown = shown + 1
    io.write("BENCH_ANSWER ", status, " ", (string.sub(body or "", 1, 200):gsub("\n", " ")), "\n")
  elseif status < 300 and print_bodies then
    io.write("BENCH_BODY ", (body:gsub("\n", " ")), "\n")
  end
  if answered == #bodies then
    wrk.thread:stop()
    ffi.C.kill(ffi.C.getpid(), 2)
  end
end

done = C.done
