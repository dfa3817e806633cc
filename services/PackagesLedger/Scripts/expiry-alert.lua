-- A time-based step of one package, run by the expiry scheduler when due (R-PKG-6, R-PKG-2):
-- EXPIRING_7D / EXPIRING_1D / EXPIRED raise the alert once if calls remain; PRUNE removes the
-- package from its label's index once no late record can still use it.
-- KEYS[1] = {acct:M}:pkg:<id>   KEYS[2] = {acct:M}:outbox
-- ARGV[1] = hash tag  ARGV[2] = main account id  ARGV[3] = package id  ARGV[4] = step
-- ARGV[5] = now (ms)  ARGV[6] = now ISO  ARGV[7] = traceparent  ARGV[8] = tracestate
-- ARGV[9], ARGV[10] = alert topic and type
-- Returns 'raised', 'skipped', 'pruned' or 'missing'.
local TAG, ACCOUNT, NOW, NOW_ISO = ARGV[1], ARGV[2], ARGV[5], ARGV[6]
-- #include lib-usage.lua

local id, step = ARGV[3], ARGV[4]
local p = redis.call('HMGET', KEYS[1], 'label', 'size', 'used', 'status', 'free', 'expires_at', 'purchased_at')
if not p[1] then return 'missing' end
if step == 'PRUNE' then
  -- The package's member of its label's index (PackageLedger.OrderKey).
  redis.call('ZREM', TAG .. ':avail:' .. p[1],
    string.format('%s|%013d|%013d|%s', p[5] == '1' and '0' or '1', tonumber(p[6]), tonumber(p[7]), id))
  return 'pruned'
end
local size, remaining = tonumber(p[2]), tonumber(p[2]) - tonumber(p[3])
if p[4] ~= 'active' or remaining <= 0 then return 'skipped' end
if redis.call('HSETNX', KEYS[1], 'alert_' .. string.lower(step), NOW) == 0 then return 'skipped' end
raise_alert(id, KEYS[1], p[1], 'PACKAGE_ALERT_KIND_' .. step, size, remaining)
flush_alerts(KEYS[2], ARGV[9], ARGV[10], ARGV[7], ARGV[8])
return 'raised'
