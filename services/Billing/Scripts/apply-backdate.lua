-- Moves backdated calls from postpaid to package in Billing's statistics (R-PKG-4), once per
-- request id. A request id Billing has not seen yet is marked KIND_BACKDATED .. SEP .. <package> so
-- that its usage, when it arrives, counts as package-deducted (see apply-usage.lua).
-- Positions and reply: ApplyBackdateScript (its contract); KIND_*, C_*, SEP, MONTH_LEN: the preamble.
-- The day statistics key of a moved call is built here from the given prefix (the account's slot): its day is in
-- the stored record, which the caller has not read (docs/redis-keys.md, keys a script builds itself).
--
-- KEYS[1] = {acct:M}:bil:mver   KEYS[1 + i] = {acct:M}:bil:req:<request id i>, i = 1..n
-- ARGV[1] = day statistics key prefix {acct:M}:bil:st:   ARGV[2] = request id retention (s)   ARGV[3] = package id   ARGV[4] = label ('' = any)
-- Returns {moved, marked, unchanged}.
local statsPrefix, keep, pkg, label = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local moved, marked, unchanged = 0, 0, 0
-- A stored record: kind, day (digits), label, mode, sub-account (the rest), joined by SEP.
local part = '([^' .. SEP .. ']*)' .. SEP
local recordPattern = '^(%a)' .. SEP .. '(%d+)' .. SEP .. part .. part .. '(.*)$'
for i = 2, #KEYS do
  local reqKey = KEYS[i]
  local prev = redis.call('GET', reqKey)
  if not prev then
    redis.call('SET', reqKey, KIND_BACKDATED .. SEP .. pkg, 'EX', keep)
    marked = marked + 1
  else
    local kind, day, lbl, mode, sub = string.match(prev, recordPattern)
    if kind == KIND_POSTPAID and (label == '' or lbl == label) then
      local key = statsPrefix .. day
      local f = lbl .. SEP .. mode .. SEP .. sub .. SEP
      redis.call('HINCRBY', key, f .. C_POSTPAID, -1)
      redis.call('HINCRBY', key, f .. C_PACKAGE, 1)
      redis.call('SET', reqKey, table.concat({ KIND_PACKAGE, day, lbl, mode, sub }, SEP), 'KEEPTTL')
      redis.call('HINCRBY', KEYS[1], string.sub(day, 1, MONTH_LEN), 1)
      moved = moved + 1
    else
      unchanged = unchanged + 1
    end
  end
end
return {moved, marked, unchanged}
