-- The hot path: charges a batch of usage records of ONE main account in one atomic step
-- (R-PKG-3, R-PKG-5, R-MET-2, R-MET-4, R-PKG-6 thresholds, R-ACC-2, R-BIL-4 suspension, R-ONB-4).
-- Per record: idempotency on the request id (a retry naming another call is refused: ST_KEY_REUSED); service opened at the record's time and
-- not suspended at it; an E证通 call only for an account enterprise-verified by then; the first usable package of the label in deduction order (free before purchased,
-- earliest expiry, earliest purchase, id) valid at the record's time, else postpaid; the
-- low-balance and exhausted alerts once per package; day counters; one UsageCharged event for
-- the batch (its refused records too, but an unknown account's) and the alerts, in the outbox.
--
-- Per record the script only computes (Lua tables and strings); Redis is read once for all the
-- request ids (HMGET), once per package and only when the cached first package of a label no longer
-- fits (ZRANGEBYLEX + LINDEX); every write happens at the end, once per key: the record of each
-- package charged, LPOP of the packages exhausted, one HSET of the new request ids, HINCRBY per
-- day counter field, one ZADD per postpaid queue. Nothing is written before every outcome is known,
-- so a script that dies while deciding (a bug) has changed nothing.
--
-- Packages and their index {acct:M}:avail:<label> (groups of packages by kind, expiry and purchase
-- day, each with its list in deduction order): lib-package.lua, docs/redis-keys.md. The first group
-- expiring after t, then its list's head, is the package to charge: O(log n).
--
-- Request ids: one hash per account and generation of 8 days, {acct:M}:rid:g<generation>, field the
-- request id, value its outcome in a short form (rid_value, lib-usage.lua), FP_SEP and the record's fingerprint
-- (UsageFingerprint: the class's C_FINGERPRINT and the occurred time's digits, time_fp). An id is looked up in the
-- current and the previous generation and written to the current one. One hash, not many small ones:
-- a batch then costs two HMGETs and one HSET whatever its size (docs/benchmarks.md).
--
-- Positions, status characters and constants: DeductScript (its Bind and Parse), generated into the preamble.
-- KEYS[1] = {acct:M}:svc   KEYS[2] = {acct:M}:outbox
-- ARGV: the header (ARGV[A_TAG] hash tag, A_ACCOUNT main account id, A_NOW unix ms, A_NOW_ISO, A_USAGE_TOPIC and
--   A_USAGE_TYPE, A_ALERT_TOPIC and A_ALERT_TYPE, A_RECORDS n records, A_CLASSES m classes of records: alike but for
--   request id and time), then m groups of CLASS_ARGS (C_LABEL, C_DAY Shanghai yyyymmdd, C_BILLABLE FLAG_ON or not, C_ENTERPRISE_ONLY
--   FLAG_ON or not (E证通: R-ONB-4), C_JSON the class's members of a ChargedUsageGroup as JSON, no braces, C_SUB_ACCOUNT the sub-account
--   id or '', C_FINGERPRINT the fingerprint of the class's access mode, return code and calling account), then n groups of RECORD_ARGS (R_REQUEST_ID,
--   R_OCCURRED_AT ms in 13 digits, R_CLASS 1..m); then the trace context (OutboxScript)
-- Returns the price book, a string of one status character per record (ST_NEW new, ST_FOLLOWS new with the
-- outcome that follows from the previous new record's: the same postpaid or not-billable outcome, or the same
-- package with one call less; ST_DUPLICATE, ST_KEY_REUSED a request id kept for another label or fingerprint, ST_UNKNOWN_ACCOUNT, ST_NOT_OPENED at the record's time, ST_SUSPENDED,
-- ST_NOT_VERIFIED an E证通 record of an account not enterprise-verified at the record's time),
-- then the outcome of each ST_NEW, ST_DUPLICATE and ST_KEY_REUSED record, in order: a new record's as kept (rid_value's short
-- form: its label is the record's), a duplicate's whole (kind, label, package, remaining, joined by OUTCOME_SEP), a reused
-- id's whole, FP_SEP and the kept fingerprint ('' if kept without one), for C# to name the differing fields.
-- A refusal for not opened, suspended or not verified keeps its request id with its refused kind (REFUSED[status].kind,
-- kept as rid_value keeps a postpaid outcome: the kind's letter and the label) and counts once in the day counters under
-- that kind: a retry is a duplicate answered from what is kept (the refused kind's letter leads its whole outcome), never
-- judged again. An unknown account's refusal and ST_KEY_REUSED keep nothing and change nothing.
-- A batch charged to one package is answered in one string.
local TAG, ACCOUNT, NOW, NOW_ISO = ARGV[A_TAG], ARGV[A_ACCOUNT], ARGV[A_NOW], ARGV[A_NOW_ISO]
-- #include lib-usage.lua

-- The service's state, read once. (The main chunk is near Lua's limit of 200 locals: what only this block
-- needs stays inside it.)
local state, activated, book, verified, judged, suspended_at
do
  local svc = redis.call('HMGET', KEYS[1], SVC_F_STATE, SVC_F_ACTIVATED_AT, SVC_F_PRICE_BOOK, SVC_F_ENTERPRISE_VERIFIED_AT, SVC_F_STATES)
  state, activated, book = svc[1], tonumber(svc[2] or ''), svc[3] or ''
  -- The service's suspensions and resumptions as instants, oldest first (ServiceHistory, set-service-state.lua): a record is
  -- judged by the latest change at or before its time (R-BIL-4 at the call's time, R-MET-4). A hash from before the history:
  -- by its state now.
  local changed_at, suspends, nchanges = {}, {}, 0
  if svc[5] then
    for letter, ms in string.gmatch(svc[5], HIST_ENTRY) do
      nchanges = nchanges + 1; changed_at[nchanges] = tonumber(ms); suspends[nchanges] = letter == HIST_SUSPENDED
    end
  end
  local suspended_first = not svc[5] and state == SVC_SUSPENDED
  judged = nchanges > 0 or suspended_first
  suspended_at = function(t)
    for k = nchanges, 1, -1 do
      if changed_at[k] <= t then return suspends[k] end
    end
    return suspended_first
  end
  -- When the account was verified as an enterprise (R-ONB-4: E证通 only from then on); never: after any call.
  verified = tonumber(svc[4] or '') or math.huge
end
local account_known = state ~= false or redis.call('EXISTS', KEYS[1]) == 1

local n, m = tonumber(ARGV[A_RECORDS]), tonumber(ARGV[A_CLASSES])
-- Per class: its label, day, billable, JSON members, and the event groups of its new records by package.
local classes = {}
for k = 1, m do
  local b = A_CLASSES + 1 + (k - 1) * CLASS_ARGS
  -- The day counters' cell (R-BIL-3 per sub-account): "label" for the main account's calls, "label|sub" for a
  -- sub-account's; the postpaid queue's member carries the sub-account the same way (suffix), so a backdating moves the right cell.
  local label, sub = ARGV[b + C_LABEL], ARGV[b + C_SUB_ACCOUNT]
  local suffix = sub == '' and '' or CTR_SEP .. sub
  classes[tostring(k)] = { label = label, day = ARGV[b + C_DAY], billable = ARGV[b + C_BILLABLE] == FLAG_ON,
    enterprise = ARGV[b + C_ENTERPRISE_ONLY] == FLAG_ON, json = ARGV[b + C_JSON], fp = ARGV[b + C_FINGERPRINT], groups = {}, refusals = {}, cell = label .. suffix, suffix = suffix }
end
local first = A_CLASSES + 1 + m * CLASS_ARGS

-- 1. Known request ids: one HMGET of the batch's ids in the current generation's hash (field '~',
-- never a request id, marks a hash whose expiry is set), one more in the previous generation's for
-- the ids not found. stored: request id -> its outcome as kept (rid_value's short form).
local RID_KEY = rid_key(RID_GEN)
local stored, dated = {}, false
do
  local ids = { '~' }
  for i = 0, n - 1 do
    ids[i + 2] = ARGV[first + i * RECORD_ARGS + R_REQUEST_ID]
  end
  local v = hmget(RID_KEY, ids)
  dated = v[1] ~= false
  local missing = {}
  for j = 2, #ids do
    if v[j] then stored[ids[j]] = v[j] else missing[#missing + 1] = ids[j] end
  end
  -- (Most new ids are in neither hash: the previous generation's is only asked when it exists.)
  local previous = rid_key(RID_GEN - 1)
  if #missing > 0 and redis.call('EXISTS', previous) == 1 then
    local older = hmget(previous, missing)
    for j = 1, #missing do
      if older[j] then stored[missing[j]] = older[j] end
    end
  end
end

-- 2. Outcomes, record by record, against cached package state: per record only table look-ups,
-- arithmetic and the outcome string.
-- popped: per list of the index, how many packages at its head this batch exhausted (they leave it at the end).
local firsts, pkgs, popped = { [0] = {}, [1] = {} }, {}, {}

-- First package of the label in group g (0 free, 1 purchased) whose group expires after t: the
-- index's first member with expires_at > t whose list still holds a package this batch did not
-- exhaust. Cached: the answer for t also holds for any later t' while that package still expires after t'.
local function first_of(label, group, t13, t)
  local c = firsts[group][label]
  if c and t >= c.t and (not c.id or c.exp > t) then return c end
  local index, min = TAG .. ':avail:' .. label, '[' .. group .. '|' .. t13 .. '|~'
  local m, id, queue
  repeat
    m = redis.call('ZRANGEBYLEX', index, min, '[' .. group .. '|~', 'LIMIT', 0, 1)[1]
    if m then
      queue = index .. ':' .. m
      local q = popped[queue]
      id = redis.call('LINDEX', queue, q and q.count or 0)
      min = '(' .. m
    end
  until not m or id
  c = { t = t, id = id or false, exp = m and tonumber(string.sub(m, 3, 15)) or 0, queue = queue, index = index, member = m }
  firsts[group][label] = c
  return c
end

local function package(id)
  local p = pkgs[id]
  if not p then
    p = pkg_read(id)
    -- Valid from 00:00 Shanghai (UTC+8) of the purchase day (R-PKG-2).
    p.valid_from = p.purchased_at - (p.purchased_at + SHANGHAI_OFFSET_MS) % DAY_MS
    pkgs[id] = p
  end
  return p
end

-- The outcome (kind, label, package, remaining, joined by OUTCOME_SEP) and the label of a request id kept in
-- rid_value's short form (without its fingerprint).
local function rid_outcome(v)
  local kind = string.sub(v, 1, 1)
  if kind ~= KIND_PACKAGE then
    local label = string.sub(v, 2)
    return kind .. OUTCOME_SEP .. label .. OUTCOME_SEP .. OUTCOME_SEP .. '-1', label
  end
  local hex, remaining = string.match(v, '^' .. KIND_PACKAGE .. '(%x+)' .. OUTCOME_SEP .. '(%d+)$')
  local id = PKG_ID_PREFIX .. hex
  local label = package(id).label
  return KIND_PACKAGE .. OUTCOME_SEP .. label .. OUTCOME_SEP .. id .. OUTCOME_SEP .. remaining, label
end


-- Charges one unit to the first usable package of the label at t; returns the package and the
-- remaining calls, or nil.
local function charge_package(label, t13, t)
  for group = 0, 1 do
    local c = first_of(label, group, t13, t)
    if c.id then
      local p = package(c.id)
      -- Validity starts and ends with the purchase day, so if the head of the earliest-expiring
      -- list is not yet valid at t, no later package of the group is either.
      if p.valid_from <= t and p.status == PKG_ACTIVE then
        p.dirty = true
        local remaining = pkg_use_unit(p)
        if remaining <= 0 then
          local q = popped[c.queue]
          if not q then q = { count = 0, index = c.index, member = c.member }; popped[c.queue] = q end
          q.count = q.count + 1
          firsts[group][label] = nil
        end
        return p, remaining
      end
    end
  end
  return nil, -1
end

-- The reply (see the header). Per record only table look-ups, arithmetic and at most one string
-- built (the kept outcome); counters instead of the # operator.
-- stored: request id -> its outcome as kept, for ids known before and ids new in this batch (a
-- request id repeated within the batch is a duplicate the second time).
local out, no, status, events, ne, nr = { book, '' }, 2, {}, {}, 0, 0
-- w: the new request ids and their kept outcomes, for one HSET.
local w, nw = {}, 0
local ctrs, postqs, postqList = {}, {}, {}
-- Consecutive records mostly share their time and their day counter: the last ones are reused.
local lastT13, lastT, lastDay, lastCell, lastCtr
-- The previous new record's outcome (as kept), package and remaining calls (ST_FOLLOWS below).
local lastKept, lastPkg, lastRemaining
-- The time's part of the fingerprint (UsageFingerprint.Time: unix ms modulo FP_TIME_MOD in 6 hex digits), once per instant.
-- (The main function is near Lua's 200 locals: helpers live inline.)
local lastTimeFp
-- The counts of a day and cell by kind (charge kinds and refused kinds), written at the end.
local function day_counter(day, cell)
  local byCell = ctrs[day]
  if not byCell then byCell = {}; ctrs[day] = byCell end
  local ctr = byCell[cell]
  if not ctr then ctr = {}; byCell[cell] = ctr end
  return ctr
end
for i = 0, n - 1 do
  local b = first + i * RECORD_ARGS
  local rid = ARGV[b + R_REQUEST_ID]
  local prev = stored[rid]
  local t13 = ARGV[b + R_OCCURRED_AT]
  if t13 ~= lastT13 then
    lastT13, lastT = t13, tonumber(t13)
    lastTimeFp = string.format('%06x', lastT % FP_TIME_MOD)
  end
  local t = lastT
  if prev then
    -- The same call again (same label, same fingerprint; an id kept without a fingerprint: same label) is a
    -- duplicate, answered the original outcome; another call under the same id is refused and changes nothing.
    local sep = string.find(prev, FP_SEP, 1, true)
    local keptFp, class = sep and string.sub(prev, sep + 1) or '', classes[ARGV[b + R_CLASS]]
    local whole, label = rid_outcome(sep and string.sub(prev, 1, sep - 1) or prev)
    no = no + 1
    if label == class.label and (not sep or keptFp == class.fp .. lastTimeFp) then
      status[i + 1] = ST_DUPLICATE; out[no] = whole
    else
      status[i + 1] = ST_KEY_REUSED; out[no] = whole .. FP_SEP .. keptFp
    end
  elseif not account_known then
    status[i + 1] = ST_UNKNOWN_ACCOUNT
  elseif not activated or t < activated then
    status[i + 1] = ST_NOT_OPENED
  elseif judged and suspended_at(t) then
    status[i + 1] = ST_SUSPENDED
  elseif t < verified and classes[ARGV[b + R_CLASS]].enterprise then
    status[i + 1] = ST_NOT_VERIFIED
  else
    local class = classes[ARGV[b + R_CLASS]]
    local label, day = class.label, class.day
    local kind, pkg, remaining = KIND_NOT_BILLABLE, '', nil
    if class.billable then
      local p
      p, remaining = charge_package(label, t13, t)
      if p then
        kind, pkg = KIND_PACKAGE, p.id
      else
        kind = KIND_POSTPAID
        -- Postpaid calls of the day, oldest first, for same-day backdating (R-PKG-4).
        local byDay = postqs[label]
        if not byDay then byDay = {}; postqs[label] = byDay end
        local q = byDay[day]
        if not q then
          q = { key = TAG .. ':postq:' .. label .. ':' .. day }
          byDay[day] = q
          postqList[#postqList + 1] = q
        end
        q[#q + 1] = t13; q[#q + 1] = rid .. class.suffix
      end
    end
    if day ~= lastDay or class.cell ~= lastCell then
      lastDay, lastCell, lastCtr = day, class.cell, day_counter(day, class.cell)
    end
    lastCtr[kind] = (lastCtr[kind] or 0) + 1
    local kept = rid_value(kind, label, pkg, remaining)
    nw = nw + 2; w[nw - 1] = rid; w[nw] = kept .. FP_SEP .. class.fp .. lastTimeFp
    stored[rid] = w[nw]
    -- A new record whose outcome follows from the previous new record's (ST_FOLLOWS: the same postpaid or
    -- not-billable outcome, or the next call of the same package) is not answered again.
    if kept == lastKept or (kind == KIND_PACKAGE and pkg == lastPkg and remaining == lastRemaining - 1) then
      status[i + 1] = ST_FOLLOWS
    else
      status[i + 1] = ST_NEW
      no = no + 1; out[no] = kept
    end
    lastKept, lastPkg, lastRemaining = kept, pkg, remaining
    -- The event's groups (class and package): request ids and times, joined once at the end.
    local g = class.groups[pkg]
    if not g then
      g = { n = 0, ids = {}, times = {} }
      class.groups[pkg] = g
      ne = ne + 1; events[ne] = { class.json, pkg, g }
    end
    local c = g.n + 1
    g.n = c; g.ids[c] = rid; g.times[c] = t13
  end
  -- A refusal (but an unknown account's: no account to count it under) joins its class's refused group of its status,
  -- for UsageCharged's refused groups (statistics, R-BIL-1); its request id is kept with its refused kind and counted
  -- once in its cell's day counter under that kind: a retry is a duplicate, published and counted no more.
  -- (Declared after the branches: the main chunk's locals are near Lua's limit of 200 there.)
  local refused = REFUSED[status[i + 1]]
  if refused then
    local class = classes[ARGV[b + R_CLASS]]
    local g = class.refusals[refused]
    if not g then g = { n = 0, ids = {}, times = {} }; class.refusals[refused] = g; nr = nr + 1 end
    local c = g.n + 1
    g.n = c; g.ids[c] = rid; g.times[c] = t13
    nw = nw + 2; w[nw - 1] = rid; w[nw] = rid_value(refused.kind, class.label) .. FP_SEP .. class.fp .. lastTimeFp
    stored[rid] = w[nw]
    local ctr = day_counter(class.day, class.cell)
    ctr[refused.kind] = (ctr[refused.kind] or 0) + 1
  end
end
out[2] = table.concat(status)

-- 3. Writes, once per key (long argument lists in chunks: unpack is bounded by the Lua C stack).
for _, p in pairs(pkgs) do
  if p.dirty then pkg_write(p) end
end
for queue, q in pairs(popped) do
  redis.call('LPOP', queue, q.count)
  if redis.call('EXISTS', queue) == 0 then redis.call('ZREM', q.index, q.member) end
end
-- New request ids, in one HSET (long argument lists in chunks).
if nw > 0 then
  if not dated then w[nw + 1] = '~'; w[nw + 2] = ''; nw = nw + 2 end
  for s = 1, nw, 2000 do redis.call('HSET', RID_KEY, unpack(w, s, math.min(s + 1999, nw))) end
  if not dated then redis.call('PEXPIRE', RID_KEY, RID_LIFETIME) end
end
for day, byCell in pairs(ctrs) do
  local key, created = TAG .. ':ctr:' .. day, false
  for cell, c in pairs(byCell) do
    for kind, count in pairs(c) do
      -- A field that is new now may be the key's first: only then can the key lack its expiry.
      if count > 0 and redis.call('HINCRBY', key, cell .. CTR_SEP .. kind, count) == count then created = true end
    end
  end
  if created then redis.call('PEXPIRE', key, CTR_RETENTION_MS, 'NX') end
end
for _, q in ipairs(postqList) do
  for s = 1, #q, 2000 do redis.call('ZADD', q.key, unpack(q, s, math.min(s + 1999, #q))) end
  redis.call('PEXPIRE', q.key, POSTQ_RETENTION_MS, 'NX')
end

if ne > 0 or nr > 0 then
  -- UsageCharged's groups (ChargedUsageGroup's protobuf JSON, names CUG_* from its descriptor) and refused groups
  -- (RefusedUsageGroup: the class's members, ids and times under the names it shares with ChargedUsageGroup, and
  -- RUG_REASON, whose value REFUSED gives per status); ids and labels need no escaping (validated).
  local groups, book_json, package_json = {}, ',"' .. CUG_PRICE_BOOK .. '":"' .. book, '","' .. CUG_PACKAGE_ID .. '":"'
  local ids_json, times_json = '","' .. CUG_REQUEST_IDS .. '":["', '"],"' .. CUG_OCCURRED_AT_MS .. '":['
  for k = 1, ne do
    local e = events[k]
    groups[k] = '{' .. e[1] .. book_json .. (e[2] == '' and '' or package_json .. e[2]) ..
      ids_json .. table.concat(e[3].ids, '","') .. times_json .. table.concat(e[3].times, ',') .. ']}'
  end
  local json = { ne > 0 and '"' .. UC_GROUPS .. '":[' .. table.concat(groups, ',') .. ']' or nil }
  if nr > 0 then
    local refused = {}
    for k = 1, m do
      local class = classes[tostring(k)]
      for how, g in pairs(class.refusals) do
        refused[#refused + 1] = '{' .. class.json .. ',"' .. RUG_REASON .. '":"' .. how.reason ..
          ids_json .. table.concat(g.ids, '","') .. times_json .. table.concat(g.times, ',') .. ']}'
      end
    end
    json[#json + 1] = '"' .. UC_REFUSED .. '":[' .. table.concat(refused, ',') .. ']'
  end
  outbox_append(KEYS[2], ARGV[A_USAGE_TOPIC], ARGV[A_USAGE_TYPE], '{' .. table.concat(json, ',') .. '}', NOW)
end
flush_alerts(KEYS[2], ARGV[A_ALERT_TOPIC], ARGV[A_ALERT_TYPE])
return out
