-- Shared by the ledger scripts that charge and alert (included with "-- #include lib-usage.lua").
-- Locals expected before the include: TAG (the account's hash tag), ACCOUNT (main account id), NOW (ms), NOW_ISO.
-- #include lib-package.lua
-- #include lib-outbox.lua

local alerts = {}

-- ISO 8601 UTC with milliseconds of a unix time in ms, as C# writes it (yyyy-MM-ddTHH:mm:ss.fffZ).
local function iso(ms)
  local s = math.floor(ms / 1000)
  local y, m, d = civil(math.floor(s / 86400))
  local sod = s % 86400
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, math.floor(sod / 3600), math.floor(sod % 3600 / 60), sod % 60, ms % 1000)
end

-- Marks an alert of the package raised; false when it already was (R-PKG-6: once per package and kind).
local function pkg_flag(p, kind)
  local f = PKG_ALERT_FLAG[kind]
  if string.find(p.alerts, f, 1, true) then return false end
  p.alerts = p.alerts .. f
  return true
end

-- A PackageAlert (field names from its protobuf descriptor: PA_*), with a stable event id.
local function raise_alert(p, kind, remaining)
  alerts[#alerts + 1] = { 'alert:' .. p.id .. ':' .. kind, cjson.encode({
    [PA_ACCOUNT_ID] = ACCOUNT, [PA_PACKAGE_ID] = p.id, [PA_LABEL] = p.label, [PA_KIND] = kind,
    [PA_SIZE] = tostring(p.size), [PA_REMAINING] = tostring(remaining),
    [PA_EXPIRES_AT] = iso(p.expires_at), [PA_RAISED_AT] = NOW_ISO }) }
end

-- Deducts one unit from a package (not written: pkg_write follows): an exhausted package leaves
-- the index, and the low-balance (first time remaining < 20 % of size) and exhausted alerts are
-- raised once each (R-PKG-5, R-PKG-6). Returns the remaining calls.
local function pkg_use_unit(p)
  p.used = p.used + 1
  local remaining = p.size - p.used
  if remaining * 5 < p.size and pkg_flag(p, ALERT_LOW_BALANCE) then
    raise_alert(p, ALERT_LOW_BALANCE, remaining)
  end
  if remaining <= 0 and pkg_flag(p, ALERT_EXHAUSTED) then
    raise_alert(p, ALERT_EXHAUSTED, remaining)
  end
  return remaining
end

-- Request ids are kept by the time they were charged, in generations of RID_GENERATION_MS (LedgerKeys.RequestIdGeneration):
-- the keys of generation g are read while g or g+1 is current and expire at the end of g+1, so an id
-- is found for at least 8 days after its charge whatever occurred time a retry carries (a retry
-- comes at most 7 days after its call: the late window, R-MET-4).
local RID_GEN = math.floor(tonumber(NOW) / RID_GENERATION_MS)
-- Milliseconds from now until the end of the next generation: the lifetime of a new key of RID_GEN.
local RID_LIFETIME = (RID_GEN + 2) * RID_GENERATION_MS - tonumber(NOW)
local function rid_key(gen) return TAG .. ':rid:g' .. string.format('%d', gen) end

-- The stored form of a charge outcome, kept short so Redis stores it in its smallest string
-- allocation (docs/redis-keys.md): KIND_PACKAGE "P<package id without PKG_ID_PREFIX>|<remaining>" (the
-- label is the package's), KIND_POSTPAID or KIND_NOT_BILLABLE "<kind><label>"; the price book is the
-- account's. ChargeOutcome.FromKept reads it (kind letters and OUTCOME_SEP: ChargeKinds, ChargeOutcome).
-- deduct.lua appends FP_SEP and the record's fingerprint (UsageFingerprint) to what it keeps.
local function rid_value(kind, label, pkg, remaining)
  if kind == KIND_PACKAGE then return KIND_PACKAGE .. string.sub(pkg, #PKG_ID_PREFIX + 1) .. OUTCOME_SEP .. remaining end
  return kind .. label
end

-- HMGET of any number of fields (unpack is bounded by the Lua C stack).
local function hmget(key, fields)
  if #fields <= 2000 then return redis.call('HMGET', key, unpack(fields)) end
  local all = {}
  for s = 1, #fields, 2000 do
    local part = redis.call('HMGET', key, unpack(fields, s, math.min(s + 1999, #fields)))
    for j = 1, #part do all[#all + 1] = part[j] end
  end
  return all
end

-- Appends the raised alerts to the outbox, each with a stable event id.
local function flush_alerts(outbox, topic, type)
  for _, a in ipairs(alerts) do outbox_append(outbox, topic, type, a[2], NOW, a[1]) end
end
