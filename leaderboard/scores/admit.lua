-- Admit a submission in one step: check the caller's session if the worker has not,
-- then answer a keyed repeat with its first answer, or else take a slot of the player's
-- rate limit on the board (take_slot: sliding_window.lua; check_session:
-- auth/session_check.lua). Every key lives in the player's hash tag (one slot).
-- KEYS[1]  the player's rate-limit log for the board (ratelimit:scores:<board>:{<player>})
-- KEYS[2]  the submission's stored answer (idem:{<player>}:<board>:<key digest>); for a
--          submission without an Idempotency-Key, KEYS[1] again (never read)
-- KEYS[3]  optional: the caller's session (session:{<player>}:<token hash>), when the
--          worker has not checked it yet
-- ARGV[1]  limit   ARGV[2] window, ms   ARGV[3] a random token   (take_slot's arguments)
-- ARGV[4]  "1": the submission carries an Idempotency-Key
-- ARGV[5]  with KEYS[3]: the player the token names
-- ARGV[6]  with KEYS[3]: the session's idle TTL, ms
-- ARGV[7]  with KEYS[3]: least time between two extensions of it, ms
-- Returns: {-1} when KEYS[3] is no live session of that player (nothing read or taken);
--          else {0, session_ms, answer} for a repeat whose answer is kept (no slot taken:
--          a replay does not count against the limit), or
--          {1, session_ms, allowed, remaining, retry_after_ms, reset_ms};
--          session_ms: ms left of the session checked here, -1 when none was.
local session_ms = -1
if KEYS[3] then
  local session = check_session(KEYS[3], ARGV[6], ARGV[7])
  if not session or session[1] ~= ARGV[5] then
    return {-1}
  end
  session_ms = session[2]
end
if ARGV[4] == '1' then
  local answer = redis.call('GET', KEYS[2])
  if answer then
    return {0, session_ms, answer}
  end
end
local decided = take_slot(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
return {1, session_ms, decided[1], decided[2], decided[3], decided[4]}
