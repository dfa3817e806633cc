-- Moves backdated calls from postpaid to package in Billing's statistics (R-PKG-4), once per
-- request id. A request id Billing has not seen yet is marked KIND_BACKDATED so that its usage,
-- when it arrives, counts as package-deducted (see apply-usage.lua). Request ids: lib-request-ids.lua.
-- Positions and reply: ApplyBackdateScript (its contract); KIND_*, C_*, SEP, MONTH_LEN: the preamble.
-- The day statistics key of a moved call is built here from the given prefix (the account's slot):
-- its day is in the request id's stored value, which the caller has not read (docs/redis-keys.md).
--
-- KEYS[1] = {acct:M}:bil:mver   KEYS[2] = {acct:M}:bil:rgen   KEYS[3] = {acct:M}:bil:rid:g<current generation>
-- ARGV[1] = generation key prefix {acct:M}:bil:rid:g   ARGV[2] = current generation
-- ARGV[3] = the current generation hash's lifetime from now (ms)   ARGV[4] = day statistics key prefix {acct:M}:bil:st:
-- ARGV[5] = label ('' = any)   ARGV[6..] = the request ids' fields (digests, BillingKeys.RequestIdField)
-- Returns {moved, marked, unchanged}.
-- #include lib-request-ids.lua
local registry, current = KEYS[2], KEYS[3]
local prefix, generation, lifetime, statsPrefix, label = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local ids = {}
for i = 6, #ARGV do ids[#ids + 1] = ARGV[i] end
local known = rid_lookup(ids, registry, prefix)
local moved, marked, unchanged, marks = 0, 0, 0, {}
-- A postpaid record's value: KIND_POSTPAID, day (digits), label, mode, sub-account (the rest), joined by SEP.
local part = '([^' .. SEP .. ']*)' .. SEP
local postpaidPattern = '^' .. KIND_POSTPAID .. '(%d+)' .. SEP .. part .. part .. '(.*)$'
for _, rid in ipairs(ids) do
  local prev = known[rid]
  if not prev then
    marks[#marks + 1] = rid
    marks[#marks + 1] = KIND_BACKDATED
    known[rid] = { KIND_BACKDATED, current }
    marked = marked + 1
  else
    local day, lbl, mode, sub = string.match(prev[1], postpaidPattern)
    if day and (label == '' or lbl == label) then
      local key = statsPrefix .. day
      local f = lbl .. SEP .. mode .. SEP .. sub .. SEP
      redis.call('HINCRBY', key, f .. C_POSTPAID, -1)
      redis.call('HINCRBY', key, f .. C_PACKAGE, 1)
      redis.call('HSET', prev[2], rid, KIND_PACKAGE)
      known[rid] = { KIND_PACKAGE, prev[2] }
      redis.call('HINCRBY', KEYS[1], string.sub(day, 1, MONTH_LEN), 1)
      moved = moved + 1
    else
      unchanged = unchanged + 1
    end
  end
end
rid_store(registry, current, generation, lifetime, marks)
return {moved, marked, unchanged}
