-- POST /v1/auth/device for a known device: a device id drawn at random from BENCH_DEVICES
-- (one per line, each signed in once before the run), so every call finds its player and
-- opens a new session, as a returning player's game does at start. Answers that made a
-- player ("created":true) are counted: there should be none.
local C = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local devices = C.lines(os.getenv("BENCH_DEVICES"))
created = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function init(args)
  math.randomseed(os.time())
end

request = function()
  local body = string.format('{"device_id":"%s"}', devices[math.random(#devices)])
  return wrk.format(nil, "/v1/auth/device", nil, body)
end

response = function(status, _, body)
  if status == 200 and string.find(body, '"created":true', 1, true) then
    created = created + 1
  end
end

setup, done = C.counted({ "created" })
