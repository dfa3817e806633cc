-- Moves backdated calls from postpaid to package in Billing's statistics (R-PKG-4), once per
-- request id. A request id Billing has not seen yet is marked 'B|<package>' so that its usage,
-- when it arrives, counts as package-deducted (see apply-usage.lua).
--
-- KEYS[1] = {acct:M}:bil:mver
-- ARGV[1] = hash tag   ARGV[2] = request id retention (s)   ARGV[3] = package id   ARGV[4] = label ('' = any)
-- ARGV[5] = n, then n request ids
-- Returns {moved, marked, unchanged}.
local tag, keep, pkg, label = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local n = tonumber(ARGV[5])
local moved, marked, unchanged = 0, 0, 0
for i = 0, n - 1 do
  local rid = ARGV[6 + i]
  local reqKey = tag .. ':bil:req:' .. rid
  local prev = redis.call('GET', reqKey)
  if not prev then
    redis.call('SET', reqKey, 'B|' .. pkg, 'EX', keep)
    marked = marked + 1
  else
    local kind, day, lbl, mode, sub = string.match(prev, '^(%a)|(%d+)|([^|]*)|([^|]*)|(.*)$')
    if kind == 'O' and (label == '' or lbl == label) then
      local key = tag .. ':bil:st:' .. day
      local f = lbl .. '|' .. mode .. '|' .. sub .. '|'
      redis.call('HINCRBY', key, f .. 'o', -1)
      redis.call('HINCRBY', key, f .. 'p', 1)
      redis.call('SET', reqKey, 'P|' .. day .. '|' .. lbl .. '|' .. mode .. '|' .. sub, 'KEEPTTL')
      redis.call('HINCRBY', KEYS[1], string.sub(day, 1, 6), 1)
      moved = moved + 1
    else
      unchanged = unchanged + 1
    end
  end
end
return {moved, marked, unchanged}
