-- POST /v1/leagues/{BENCH_LEAGUE}/scores as the admin, for a random player (ids in
-- BENCH_IDS). On a `sum` league every submission adds points: the full path every time
-- (the Postgres function, the cohort script, zone events when a zone moves).
local C = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids = C.lines(os.getenv("BENCH_IDS"))
local path = "/v1/leagues/" .. os.getenv("BENCH_LEAGUE") .. "/scores"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_ADMIN_TOKEN")

function init(args)
  math.randomseed(os.time())
end

request = function()
  local body = string.format('{"score":%d,"player_id":"%s"}', math.random(1, 100), ids[math.random(#ids)])
  return wrk.format(nil, path, nil, body)
end

C.install_delay()
done = C.done
