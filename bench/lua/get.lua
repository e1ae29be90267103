-- GET one path (BENCH_PATH), or round-robin over a file of paths (BENCH_PATHS).
local C = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local paths_file = os.getenv("BENCH_PATHS")
local paths = paths_file and C.lines(paths_file) or { os.getenv("BENCH_PATH") or "/" }
local i = 0

function setup(thread)
  math.randomseed(os.time())
end

function init(args)
  i = math.random(#paths) - 1  -- each run starts somewhere else in the list
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

C.install_delay()
done = C.done
