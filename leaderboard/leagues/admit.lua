-- Admit a player's league submission in one step: check the caller's session (which
-- the worker has not checked yet), then take a slot of the player's rate limit on the
-- league (check_session: auth/session_check.lua; take_slot: sliding_window.lua). Both
-- keys live in the player's hash tag (one slot).
-- KEYS[1]  the player's rate-limit log for the league (ratelimit:leagues:<league>:{<player>})
-- KEYS[2]  the caller's session (session:{<player>}:<token hash>)
-- ARGV[1]  limit   ARGV[2] window, ms   ARGV[3] a random token   (take_slot's arguments)
-- ARGV[4]  the player the token names
-- ARGV[5]  the session's idle TTL, ms   ARGV[6] least time between two extensions, ms
-- Returns: {0} when KEYS[2] is no live session of that player (nothing read or taken);
--          else {1, session_ms, allowed, remaining, retry_after_ms, reset_ms}, session_ms
--          being the ms left of the session.
local session = check_session(KEYS[2], ARGV[5], ARGV[6])
if not session or session[1] ~= ARGV[4] then
  return {0}
end
local decided = take_slot(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
return {1, session[2], decided[1], decided[2], decided[3], decided[4]}
