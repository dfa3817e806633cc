-- Applies the usage records of ONE main account (one UsageCharged event) to Billing's statistics,
-- idempotently per request id and atomically with the counter increments (R-BIL-1).
-- A record already applied is skipped (an event delivered or replayed twice counts once). A
-- request id marked KIND_BACKDATED was backdated before its usage arrived (events of different
-- topics may arrive in any order): its postpaid record counts as package-deducted (R-PKG-4).
-- Request ids are kept in generation hashes (lib-request-ids.lua): a postpaid record keeps what
-- a backdating needs to move it (KIND_POSTPAID .. day .. SEP .. label .. SEP .. mode .. SEP .. sub),
-- the others only their kind.
-- A refused record (KIND_REFUSED_*) counts once per request id in its refusal counter only: never in calls,
-- billable, package or postpaid, nor in the month version (bills do not change). Its request id does not block a
-- charged record of the same id that comes later (a retry the ledger charged): that record counts as usual.
-- Positions and reply: ApplyUsageScript (its contract); KIND_*, C_*, SEP, MONTH_LEN: the preamble.
--
-- KEYS[1] = {acct:M}:bil:mver (month versions)   KEYS[2] = {acct:M}:bil:rgen (generation registry)
-- KEYS[3] = {acct:M}:bil:rid:g<current generation>   KEYS[3 + j] = {acct:M}:bil:st:<day j>, j = 1..d
-- ARGV[1] = generation key prefix {acct:M}:bil:rid:g   ARGV[2] = current generation
-- ARGV[3] = the current generation hash's lifetime from now (ms)   ARGV[4] = day counters retention (s)
-- ARGV[5] = n   ARGV[6] = d   ARGV[7 .. 6 + d] = the days (yyyymmdd, Shanghai) of the day keys, in their order
-- then n groups of 6: request id's field (its digest, BillingKeys.RequestIdField), kind (KIND_*), day index j, label, access mode (number), sub-account id ('' = the main account)
-- Returns {applied, duplicates}.
-- #include lib-request-ids.lua
local registry, current = KEYS[2], KEYS[3]
local prefix, generation, lifetime, statsKeep = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local n, d = tonumber(ARGV[5]), tonumber(ARGV[6])
local first = 7 + d
local ids = {}
for i = 1, n do ids[i] = ARGV[first + (i - 1) * 6] end
local known = rid_lookup(ids, registry, prefix)

local refusal_counter = { [KIND_REFUSED_SUSPENDED] = C_REFUSED_SUSPENDED, [KIND_REFUSED_NOT_OPENED] = C_REFUSED_NOT_OPENED,
  [KIND_REFUSED_NOT_VERIFIED] = C_REFUSED_NOT_VERIFIED }
local counts, months, writes = {}, {}, {}
local applied, dups = 0, 0
local function add(j, field, v)
  local c = counts[j]
  if not c then c = {}; counts[j] = c end
  c[field] = (c[field] or 0) + v
end

for i = 1, n do
  local b = first + (i - 1) * 6
  local rid, kind, j, label, mode, sub = ARGV[b], ARGV[b + 1], tonumber(ARGV[b + 2]), ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
  local prev = known[rid]
  local refused = refusal_counter[kind]
  -- A refusal after anything, or a charge after anything but a backdating mark or a refusal, is a duplicate.
  if prev and (refused or (prev[1] ~= KIND_BACKDATED and not refusal_counter[prev[1]])) then
    dups = dups + 1
  else
    if prev then
      if kind == KIND_POSTPAID and prev[1] == KIND_BACKDATED then kind = KIND_PACKAGE end
      if prev[2] ~= current then redis.call('HDEL', prev[2], rid) end
    end
    local day = ARGV[6 + j]
    local value = kind
    if kind == KIND_POSTPAID then value = kind .. day .. SEP .. label .. SEP .. mode .. SEP .. sub end
    writes[#writes + 1] = rid
    writes[#writes + 1] = value
    known[rid] = { value, current }
    local f = label .. SEP .. mode .. SEP .. sub .. SEP
    if refused then
      add(j, f .. refused, 1)
    else
      add(j, f .. C_CALLS, 1)
      if kind ~= KIND_NOT_BILLABLE then add(j, f .. C_BILLABLE, 1) end
      if kind == KIND_PACKAGE then add(j, f .. C_PACKAGE, 1) elseif kind == KIND_POSTPAID then add(j, f .. C_POSTPAID, 1) end
      local m = string.sub(day, 1, MONTH_LEN)
      months[m] = (months[m] or 0) + 1
    end
    applied = applied + 1
  end
end

rid_store(registry, current, generation, lifetime, writes)
for j, fields in pairs(counts) do
  local key = KEYS[3 + j]
  for field, v in pairs(fields) do redis.call('HINCRBY', key, field, v) end
  redis.call('EXPIRE', key, statsKeep, 'NX')
end
for m, v in pairs(months) do redis.call('HINCRBY', KEYS[1], m, v) end
return {applied, dups}
