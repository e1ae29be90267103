-- One call of one subject against one limit (take_slot, from sliding_window.lua).
-- KEYS[1]  the subject's log   ARGV[1] limit   ARGV[2] window, ms   ARGV[3] a random token
-- Returns: {allowed, remaining, retry_after_ms, reset_ms} (see sliding_window.lua).
return take_slot(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
