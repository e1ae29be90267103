-- Admit a submission in one step: answer a keyed repeat with its first answer, or else
-- take a slot of the player's rate limit on the board (take_slot: sliding_window.lua).
-- KEYS[1]  the player's rate-limit log for the board (ratelimit:scores:<board>:{<player>})
-- KEYS[2]  the submission's stored answer (idem:{<player>}:<board>:<key digest>); for a
--          submission without an Idempotency-Key, KEYS[1] again (never read)
-- ARGV[1]  limit   ARGV[2] window, ms   ARGV[3] a random token   (take_slot's arguments)
-- ARGV[4]  "1": the submission carries an Idempotency-Key
-- Returns: {0, answer} for a repeat whose answer is kept (no slot taken: a replay does not
--          count against the limit); else {1, allowed, remaining, retry_after_ms, reset_ms}.
if ARGV[4] == '1' then
  local answer = redis.call('GET', KEYS[2])
  if answer then
    return {0, answer}
  end
end
local decided = take_slot(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
return {1, decided[1], decided[2], decided[3], decided[4]}
