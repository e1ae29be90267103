-- Apply a submission's stored scores to the indexes of every span of its board (D-043),
-- one apply_change (index_apply_change.lua, the prelude) per span, in one atomic step and
-- one script run: what a span's own index_apply.lua call would do, for each span in turn.
-- KEYS     every change's KEYS (as index_apply.lua takes them), one change after another
-- ARGV[1]  the number of changes, n
-- ARGV[2 … n + 1]  how many KEYS each change has (8, or 14 with a country index)
-- ARGV[n + 2 …]    each change's ARGV (15 each, as index_apply.lua takes them), in order
-- Returns: one reply per change, in order, each as index_apply.lua returns it (a change
--          whose index is not ready answers {-1} and the others are applied all the same).
local n = tonumber(ARGV[1])
local per_change = 15
local replies = {}
local key_at, arg_at = 1, n + 2
for change = 1, n do
  local key_count = tonumber(ARGV[1 + change])
  local keys, args = {}, {}
  for i = 1, key_count do
    keys[i] = KEYS[key_at + i - 1]
  end
  for i = 1, per_change do
    args[i] = ARGV[arg_at + i - 1]
  end
  key_at, arg_at = key_at + key_count, arg_at + per_change
  replies[change] = apply_change(keys, args)
end
return replies
