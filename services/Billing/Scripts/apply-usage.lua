-- Applies the usage records of ONE main account (one UsageCharged event) to Billing's statistics,
-- idempotently per request id and atomically with the counter increments (R-BIL-1).
-- A record already applied is skipped (an event delivered or replayed twice counts once). A
-- request id marked KIND_BACKDATED was backdated before its usage arrived (events of different
-- topics may arrive in any order): its postpaid record counts as package-deducted (R-PKG-4).
-- Positions and reply: ApplyUsageScript (its contract); KIND_*, C_*, SEP, MONTH_LEN: the preamble.
--
-- KEYS[1] = {acct:M}:bil:mver (month versions)
-- KEYS[1 + i] = {acct:M}:bil:req:<request id of record i>, i = 1..n
-- KEYS[1 + n + j] = {acct:M}:bil:st:<day j>, j = 1..d
-- ARGV[1] = request id retention (s)   ARGV[2] = day counters retention (s)   ARGV[3] = n   ARGV[4] = d
-- ARGV[5 .. 4 + d] = the days (yyyymmdd, Shanghai) of the day keys, in their order
-- then n groups of 5: kind (KIND_*), day index j, label, access mode (number), sub-account id ('' = the main account)
-- Returns {applied, duplicates}.
local keep, statsKeep = tonumber(ARGV[1]), tonumber(ARGV[2])
local n, d = tonumber(ARGV[3]), tonumber(ARGV[4])
local counts, months = {}, {}
local applied, dups = 0, 0

local function add(j, field, v)
  local c = counts[j]
  if not c then c = {}; counts[j] = c end
  c[field] = (c[field] or 0) + v
end

for i = 1, n do
  local b = 5 + d + (i - 1) * 5
  local kind, j, label, mode, sub = ARGV[b], tonumber(ARGV[b + 1]), ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  local day = ARGV[4 + j]
  local reqKey = KEYS[1 + i]
  local prev = redis.call('GET', reqKey)
  if prev and string.sub(prev, 1, 1) ~= KIND_BACKDATED then
    dups = dups + 1
  else
    if prev and kind == KIND_POSTPAID then kind = KIND_PACKAGE end
    redis.call('SET', reqKey, table.concat({ kind, day, label, mode, sub }, SEP), 'EX', keep)
    local f = label .. SEP .. mode .. SEP .. sub .. SEP
    add(j, f .. C_CALLS, 1)
    if kind ~= KIND_NOT_BILLABLE then add(j, f .. C_BILLABLE, 1) end
    if kind == KIND_PACKAGE then add(j, f .. C_PACKAGE, 1) elseif kind == KIND_POSTPAID then add(j, f .. C_POSTPAID, 1) end
    local m = string.sub(day, 1, MONTH_LEN)
    months[m] = (months[m] or 0) + 1
    applied = applied + 1
  end
end

for j, fields in pairs(counts) do
  local key = KEYS[1 + n + j]
  for field, v in pairs(fields) do redis.call('HINCRBY', key, field, v) end
  redis.call('EXPIRE', key, statsKeep, 'NX')
end
for m, v in pairs(months) do redis.call('HINCRBY', KEYS[1], m, v) end
return {applied, dups}
