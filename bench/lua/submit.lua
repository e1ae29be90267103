-- POST /v1/leaderboards/{BENCH_BOARD}/scores as the admin, for a random player of the
-- board (ids in BENCH_IDS). Scores grow with every request (from BENCH_SCORE_BASE, above
-- every preloaded score), so each submission improves the player's `best`: the full path
-- (upsert, index write, rank-change event) every time.
local C = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids = C.lines(os.getenv("BENCH_IDS"))
local path = "/v1/leaderboards/" .. os.getenv("BENCH_BOARD") .. "/scores"
local base = tonumber(os.getenv("BENCH_SCORE_BASE"))
local n = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_ADMIN_TOKEN")

function init(args)
  math.randomseed(os.time())
end

request = function()
  n = n + 1
  local body = string.format('{"score":%d,"player_id":"%s"}', base + n, ids[math.random(#ids)])
  return wrk.format(nil, path, nil, body)
end

C.install_delay()
done = C.done
