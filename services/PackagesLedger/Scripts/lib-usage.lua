-- Shared by the ledger scripts (included with "-- #include lib-usage.lua").
-- Locals expected before the include: TAG (the account's hash tag), ACCOUNT (main account id), NOW (ms), NOW_ISO.

local alerts = {}

-- ISO 8601 UTC with milliseconds of a unix time in ms, as C# writes it (yyyy-MM-ddTHH:mm:ss.fffZ);
-- civil date from days since 1970 (H. Hinnant's algorithm). Packages store only expires_at.
local function iso(ms)
  local s = math.floor(ms / 1000)
  local days, sod = math.floor(s / 86400), s % 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, math.floor(sod / 3600), math.floor(sod % 3600 / 60), sod % 60, ms % 1000)
end

local function raise_alert(pkgId, pkgKey, label, kind, size, remaining)
  alerts[#alerts + 1] = { 'alert:' .. pkgId .. ':' .. kind, cjson.encode({
    accountId = ACCOUNT, packageId = pkgId, label = label, kind = kind,
    size = tostring(size), remaining = tostring(remaining),
    expiresAt = iso(tonumber(redis.call('HGET', pkgKey, 'expires_at'))), raisedAt = NOW_ISO }) }
end

-- Deducts one unit from a package: the exhausted package leaves the label's index, and the
-- low-balance (first time remaining < 20 % of size) and exhausted alerts are raised once each
-- (R-PKG-5, R-PKG-6). Returns the remaining calls.
local function use_unit(pkgId, label, size, availMember)
  local key = TAG .. ':pkg:' .. pkgId
  local remaining = size - redis.call('HINCRBY', key, 'used', 1)
  if remaining <= 0 then redis.call('ZREM', TAG .. ':avail:' .. label, availMember) end
  if remaining * 5 < size and redis.call('HSETNX', key, 'alert_low', NOW) == 1 then
    raise_alert(pkgId, key, label, 'PACKAGE_ALERT_KIND_LOW_BALANCE', size, remaining)
  end
  if remaining <= 0 and redis.call('HSETNX', key, 'alert_exhausted', NOW) == 1 then
    raise_alert(pkgId, key, label, 'PACKAGE_ALERT_KIND_EXHAUSTED', size, remaining)
  end
  return remaining
end

-- The request-id bucket of an id (0..4095), as LedgerKeys.BucketOf computes it: the ids of one
-- account are spread over 4,096 small hashes per generation, {acct:M}:rid:g<generation>:<bucket>.
local function rid_bucket(rid)
  local h = 0
  for i = 1, #rid do h = (h * 31 + string.byte(rid, i)) % 2147483647 end
  return h % 4096
end

-- Request ids are kept by the time they were charged, in generations of 8 days (LedgerKeys.RequestIdGeneration):
-- the keys of generation g are read while g or g+1 is current and expire at the end of g+1, so an id
-- is found for at least 8 days after its charge whatever occurred time a retry carries (a retry
-- comes at most 7 days after its call: the late window, R-MET-4).
local RID_GENERATION_MS = 691200000
local RID_GEN = math.floor(tonumber(NOW) / RID_GENERATION_MS)
-- Milliseconds from now until the end of the next generation: the lifetime of a new key of RID_GEN.
local RID_LIFETIME = (RID_GEN + 2) * RID_GENERATION_MS - tonumber(NOW)
local function rid_key(gen, bucket) return TAG .. ':rid:g' .. string.format('%d', gen) .. ':' .. bucket end

-- Appends the raised alerts to the outbox, each with a stable event id.
local function flush_alerts(outbox, topic, type, tp, ts)
  for _, a in ipairs(alerts) do
    redis.call('XADD', outbox, '*', 'topic', topic, 'type', type, 'data', a[2], 'time', NOW,
      'traceparent', tp, 'tracestate', ts, 'id', a[1])
  end
end
