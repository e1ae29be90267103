-- POST /v1/leaderboards/{BENCH_BOARD}/scores as a signed-in player: each request carries
-- the session token (Authorization: Bearer) of a player drawn at random from BENCH_TOKENS
-- (one token per line, from POST /v1/auth/device), as a game client sends its own score.
-- BENCH_SCORES=random: a score from 1 to BENCH_MAX_SCORE (1,000,000), so most submissions
-- leave the player's best as it was; BENCH_SCORES=rising: BENCH_SCORE_BASE + n, above
-- every stored score, so every submission changes the best. Answers are counted as
-- changed / unchanged (the body's "changed"), for the report.
local C = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local tokens = C.lines(os.getenv("BENCH_TOKENS"))
local path = "/v1/leaderboards/" .. os.getenv("BENCH_BOARD") .. "/scores"
local rising = os.getenv("BENCH_SCORES") == "rising"
local base = tonumber(os.getenv("BENCH_SCORE_BASE") or "0")
local max_score = tonumber(os.getenv("BENCH_MAX_SCORE") or "1000000")
local headers = { ["Content-Type"] = "application/json" }
local n = 0
changed, unchanged = 0, 0

function init(args)
  math.randomseed(os.time())
end

request = function()
  n = n + 1
  local score = rising and (base + n) or math.random(1, max_score)
  headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
  return wrk.format("POST", path, headers, string.format('{"score":%d}', score))
end

response = function(status, _, body)
  if status == 200 then
    if string.find(body, '"changed":true', 1, true) then
      changed = changed + 1
    else
      unchanged = unchanged + 1
    end
  end
end

C.install_delay()
setup, done = C.counted({ "changed", "unchanged" })
