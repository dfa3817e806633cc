-- PROPOSAL (benchmark evidence only, not used by the services): deduct.lua with the same
-- semantics and the same KEYS/ARGV/return values, restructured so that per record only the
-- idempotency key is read and written; everything else is read once per script run and
-- written once at its end:
--   * the first usable package of a label/group is cached (valid for later records whose time
--     t >= the time it was looked up for, while it expires after t; dropped when exhausted),
--   * a package's valid_from/size/status/used/alert flags are read once (HMGET), its used
--     counter is written once (HINCRBY by the number of units taken),
--   * the day counters are summed in Lua and written once per field, EXPIRE NX once per key.
-- Within one script nothing else can change these keys, so every record sees the state it
-- would have seen with the original script, and the final state is identical
-- (tests/Benchmarks/proposals/check-equivalence.sh compares both on random batches).
-- One difference in failure only: Redis does not roll back a script that dies half-way (only a
-- bug or a wrong key type can make it), and here the used counters are written at the end; a
-- production version should therefore compute every outcome first and then write everything.
local TAG, ACCOUNT, NOW, NOW_ISO = ARGV[1], ARGV[2], ARGV[5], ARGV[6]
local alerts = {}
local function raise_alert(pkgId, pkgKey, label, kind, size, remaining)
  alerts[#alerts + 1] = { 'alert:' .. pkgId .. ':' .. kind, cjson.encode({
    accountId = ACCOUNT, packageId = pkgId, label = label, kind = kind,
    size = tostring(size), remaining = tostring(remaining),
    expiresAt = redis.call('HGET', pkgKey, 'expires_iso'), raisedAt = NOW_ISO }) }
end

local svc = redis.call('HMGET', KEYS[1], 'state', 'activated_at', 'price_book')
local state, activated, book = svc[1], tonumber(svc[2] or ''), svc[3] or ''
local known = state ~= false or redis.call('EXISTS', KEYS[1]) == 1
local out, charged = {}, {}
local firsts, pkgs, ctrs, postqs = {}, {}, {}, {}

local function first_of(label, group, t13, t)
  local ck = label .. '|' .. group
  local c = firsts[ck]
  if c and t >= c.t and (not c.member or c.expires > t) then return c.member end
  local m = redis.call('ZRANGEBYLEX', TAG .. ':avail:' .. label, '[' .. group .. '|' .. t13 .. '|~', '[' .. group .. '|~', 'LIMIT', 0, 1)[1]
  firsts[ck] = { t = t, member = m or false, expires = m and tonumber(string.sub(m, 3, 15)) or 0 }
  return m
end

local function package(id)
  local p = pkgs[id]
  if not p then
    local key = TAG .. ':pkg:' .. id
    local v = redis.call('HMGET', key, 'valid_from', 'size', 'status', 'used', 'alert_low', 'alert_exhausted')
    p = { key = key, valid_from = tonumber(v[1]), size = tonumber(v[2]), status = v[3], used = tonumber(v[4]), taken = 0,
          low = v[5] ~= false, exhausted = v[6] ~= false }
    pkgs[id] = p
  end
  return p
end

local function charge_package(label, t13, t)
  for _, group in ipairs({'0', '1'}) do
    local first = first_of(label, group, t13, t)
    if first then
      local id = string.match(first, '([^|]+)$')
      local p = package(id)
      if p.valid_from <= t and p.status == 'active' then
        p.used, p.taken = p.used + 1, p.taken + 1
        local remaining = p.size - p.used
        if remaining <= 0 then
          redis.call('ZREM', TAG .. ':avail:' .. label, first)
          firsts[label .. '|' .. group] = nil
        end
        if remaining * 5 < p.size and not p.low then
          p.low = true
          redis.call('HSET', p.key, 'alert_low', NOW)
          raise_alert(id, p.key, label, 'PACKAGE_ALERT_KIND_LOW_BALANCE', p.size, remaining)
        end
        if remaining <= 0 and not p.exhausted then
          p.exhausted = true
          redis.call('HSET', p.key, 'alert_exhausted', NOW)
          raise_alert(id, p.key, label, 'PACKAGE_ALERT_KIND_EXHAUSTED', p.size, remaining)
        end
        return id, remaining
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
        local postq = TAG .. ':postq:' .. label .. ':' .. day
        redis.call('ZADD', postq, t, rid)
        postqs[postq] = true
      end
    end
    local ctr = ctrs[day]
    if not ctr then ctr = {}; ctrs[day] = ctr end
    local f = label .. '|' .. kind
    ctr[f] = (ctr[f] or 0) + 1
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

for _, p in pairs(pkgs) do
  if p.taken > 0 then redis.call('HINCRBY', p.key, 'used', p.taken) end
end
for day, fields in pairs(ctrs) do
  local ctr = TAG .. ':ctr:' .. day
  for f, c in pairs(fields) do redis.call('HINCRBY', ctr, f, c) end
  redis.call('EXPIRE', ctr, 34560000, 'NX')
end
for postq in pairs(postqs) do redis.call('EXPIRE', postq, 259200, 'NX') end

if #charged > 0 then
  redis.call('XADD', KEYS[2], '*', 'topic', ARGV[7], 'type', ARGV[8],
    'data', cjson.encode({ records = charged }), 'time', NOW, 'traceparent', ARGV[3], 'tracestate', ARGV[4])
end
for _, a in ipairs(alerts) do
  redis.call('XADD', KEYS[2], '*', 'topic', ARGV[9], 'type', ARGV[10], 'data', a[2], 'time', NOW,
    'traceparent', ARGV[3], 'tracestate', ARGV[4], 'id', a[1])
end
return out
