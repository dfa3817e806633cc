-- The hot path: charges a batch of usage records of ONE main account in one atomic step
-- (R-PKG-3, R-PKG-5, R-MET-2, R-MET-4, R-PKG-6 thresholds, R-ACC-2, R-BIL-4 suspension).
-- Per record: idempotency on the request id; service opened at the record's time and not
-- suspended; the first usable package of the label in deduction order (free before purchased,
-- earliest expiry, earliest purchase, id) valid at the record's time, else postpaid; the
-- low-balance and exhausted alerts once per package; day counters; one UsageCharged event for
-- the batch and the alerts, in the outbox.
--
-- Package index {acct:M}:avail:<label>: a sorted set, every score 0, members
-- "<0 free|1 purchased>|<expires_at 13 digits>|<purchased_at 13 digits>|<id>", so ZRANGEBYLEX
-- returns the deduction order and finds the first package with expires_at > t in O(log n).
-- Exhausted and refunding packages are removed from it.
--
-- KEYS[1] = {acct:M}:svc   KEYS[2] = {acct:M}:outbox
-- ARGV[1] = hash tag  ARGV[2] = main account id  ARGV[3] = traceparent  ARGV[4] = tracestate
-- ARGV[5] = now (unix ms)  ARGV[6] = now ISO  ARGV[7], ARGV[8] = usage topic and event type
-- ARGV[9], ARGV[10] = alert topic and event type  ARGV[11] = n, then n groups of 10:
--   request_id, label, occurred_at (ms, 13 digits), occurred ISO, day (yyyymmdd), billable (1|0),
--   sub_account_id, access mode name, return code, idempotency key lifetime (ms from now)
-- Returns, per record, 2 values: status ('new'|'dup'|'unknown'|'not_opened'|'suspended') and
-- the stored outcome "kind|label|package|remaining|price_book" (kind P package, O postpaid,
-- N not billable), '' when refused.
local TAG, ACCOUNT, NOW, NOW_ISO = ARGV[1], ARGV[2], ARGV[5], ARGV[6]
-- #include lib-usage.lua

local svc = redis.call('HMGET', KEYS[1], 'state', 'activated_at', 'price_book')
local state, activated, book = svc[1], tonumber(svc[2] or ''), svc[3] or ''
local known = state ~= false or redis.call('EXISTS', KEYS[1]) == 1
local out, charged = {}, {}

-- First usable package of the label at time t (t13: 13-digit ms), charged one unit; or nil.
local function charge_package(label, t13, t)
  local avail = TAG .. ':avail:' .. label
  for _, group in ipairs({'0', '1'}) do
    local first = redis.call('ZRANGEBYLEX', avail, '[' .. group .. '|' .. t13 .. '|~', '[' .. group .. '|~', 'LIMIT', 0, 1)[1]
    if first then
      local id = string.match(first, '([^|]+)$')
      local p = redis.call('HMGET', TAG .. ':pkg:' .. id, 'valid_from', 'size', 'status')
      -- Validity starts and ends with the purchase day, so if the earliest-expiring package of
      -- the group is not yet valid at t, no later one is either.
      if tonumber(p[1]) <= t and p[3] == 'active' then
        return id, use_unit(id, label, tonumber(p[2]), first)
      end
    end
  end
  return nil, -1
end

local n = tonumber(ARGV[11])
for i = 0, n - 1 do
  local b = 12 + i * 10
  local rid, label, t13, occIso, day, billable = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
  local t = tonumber(t13)
  local reqKey = TAG .. ':req:' .. rid
  local prev = redis.call('GET', reqKey)
  if prev then
    out[#out + 1] = 'dup'; out[#out + 1] = prev
  elseif not known then
    out[#out + 1] = 'unknown'; out[#out + 1] = ''
  elseif not activated or t < activated then
    out[#out + 1] = 'not_opened'; out[#out + 1] = ''
  elseif state == 'suspended' then
    out[#out + 1] = 'suspended'; out[#out + 1] = ''
  else
    local kind, pkg, remaining = 'N', '', -1
    if billable == '1' then
      pkg, remaining = charge_package(label, t13, t)
      if pkg then
        kind = 'P'
      else
        kind, pkg = 'O', ''
        -- Postpaid calls of the day, oldest first, for same-day backdating (R-PKG-4).
        local postq = TAG .. ':postq:' .. label .. ':' .. day
        redis.call('ZADD', postq, t, rid)
        redis.call('EXPIRE', postq, 259200, 'NX')
      end
    end
    local ctr = TAG .. ':ctr:' .. day
    redis.call('HINCRBY', ctr, label .. '|' .. kind, 1)
    redis.call('EXPIRE', ctr, 34560000, 'NX')
    local outcome = kind .. '|' .. label .. '|' .. pkg .. '|' .. remaining .. '|' .. book
    redis.call('SET', reqKey, outcome, 'PX', ARGV[b + 9])
    out[#out + 1] = 'new'; out[#out + 1] = outcome
    local rec = { requestId = rid, accountId = ACCOUNT, label = label, accessMode = ARGV[b + 7],
      returnCode = ARGV[b + 8], occurredAt = occIso, billable = (billable == '1'), priceBook = book }
    if ARGV[b + 6] ~= '' then rec.subAccountId = ARGV[b + 6] end
    if pkg ~= '' then rec.packageId = pkg end
    charged[#charged + 1] = rec
  end
end

if #charged > 0 then
  redis.call('XADD', KEYS[2], '*', 'topic', ARGV[7], 'type', ARGV[8],
    'data', cjson.encode({ records = charged }), 'time', NOW, 'traceparent', ARGV[3], 'tracestate', ARGV[4])
end
flush_alerts(KEYS[2], ARGV[9], ARGV[10], ARGV[3], ARGV[4])
return out
