-- Resolve a session and slide its expiry, in one step (check_session: session_check.lua).
-- KEYS[1]  the session hash
-- ARGV[1]  idle TTL, ms
-- ARGV[2]  least time between two extensions, ms
-- Returns: {player_id, ms left before it expires}, or false when the session does not
--          exist (or is past its absolute maximum age, in which case it is deleted).
return check_session(KEYS[1], ARGV[1], ARGV[2])
