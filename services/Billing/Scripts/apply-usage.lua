-- Applies the usage records of ONE main account (one UsageCharged event) to Billing's statistics,
-- idempotently per request id and atomically with the counter increments (R-BIL-1).
-- A record already applied is skipped (an event delivered or replayed twice counts once). A
-- request id marked 'B|<package>' was backdated before its usage arrived (events of different
-- topics may arrive in any order): its postpaid record counts as package-deducted (R-PKG-4).
--
-- KEYS[1] = {acct:M}:bil:mver (month versions; every key below is in the same slot)
-- ARGV[1] = hash tag {acct:M}   ARGV[2] = request id retention (s)   ARGV[3] = day counters retention (s)
-- ARGV[4] = n, then n groups of 6: request_id, kind (P package | O postpaid | N not billable),
--   day (yyyymmdd, Shanghai), label, access mode (number), sub-account id ('' = the main account)
-- Returns {applied, duplicates}.
local tag = ARGV[1]
local keep, statsKeep = tonumber(ARGV[2]), tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local days, months = {}, {}
local applied, dups = 0, 0

local function add(d, field, v)
  d[field] = (d[field] or 0) + v
end

for i = 0, n - 1 do
  local b = 5 + i * 6
  local rid, kind, day, label, mode, sub = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
  local reqKey = tag .. ':bil:req:' .. rid
  local prev = redis.call('GET', reqKey)
  if prev and string.sub(prev, 1, 2) ~= 'B|' then
    dups = dups + 1
  else
    if prev and kind == 'O' then kind = 'P' end
    redis.call('SET', reqKey, kind .. '|' .. day .. '|' .. label .. '|' .. mode .. '|' .. sub, 'EX', keep)
    local d = days[day]
    if not d then d = {}; days[day] = d end
    local f = label .. '|' .. mode .. '|' .. sub .. '|'
    add(d, f .. 'c', 1)
    if kind ~= 'N' then add(d, f .. 'b', 1) end
    if kind == 'P' then add(d, f .. 'p', 1) elseif kind == 'O' then add(d, f .. 'o', 1) end
    local m = string.sub(day, 1, 6)
    months[m] = (months[m] or 0) + 1
    applied = applied + 1
  end
end

for day, fields in pairs(days) do
  local key = tag .. ':bil:st:' .. day
  for field, v in pairs(fields) do redis.call('HINCRBY', key, field, v) end
  redis.call('EXPIRE', key, statsKeep, 'NX')
end
for m, v in pairs(months) do redis.call('HINCRBY', KEYS[1], m, v) end
return {applied, dups}
