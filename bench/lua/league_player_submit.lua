-- POST /v1/leagues/{BENCH_LEAGUE}/scores as a signed-in player: each request carries the
-- session token (Authorization: Bearer) of a player drawn at random from BENCH_TOKENS
-- (one token per line, from POST /v1/auth/device), as a game client sends its own score.
-- On a `sum` league every submission adds points: the full path every time (the Postgres
-- function, the cohort script, zone events when a zone moves).
local C = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local tokens = C.lines(os.getenv("BENCH_TOKENS"))
local path = "/v1/leagues/" .. os.getenv("BENCH_LEAGUE") .. "/scores"
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  math.randomseed(os.time())
end

request = function()
  headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
  return wrk.format("POST", path, headers, string.format('{"score":%d}', math.random(1, 100)))
end

C.install_delay()
done = C.done
