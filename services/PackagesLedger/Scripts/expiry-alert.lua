-- A time-based step of one package, run by the expiry scheduler when due (R-PKG-6, R-PKG-2):
-- EXPIRING_7D / EXPIRING_1D / EXPIRED raise the alert once if calls remain; PRUNE removes the
-- package's group (every package of its label, kind, expiry and purchase day: they all reach
-- PRUNE together) from the deduction index once no late record can still use it.
-- KEYS[1] = {acct:M}:outbox
-- ARGV[1] = hash tag  ARGV[2] = main account id  ARGV[3] = package id  ARGV[4] = step
-- ARGV[5] = now (ms)  ARGV[6] = now ISO  ARGV[7], ARGV[8] = alert topic and type; then the trace context (OutboxScript)
-- Returns 'raised', 'skipped', 'pruned' or 'missing'.
local TAG, ACCOUNT, NOW, NOW_ISO = ARGV[1], ARGV[2], ARGV[5], ARGV[6]
-- #include lib-usage.lua

local step = ARGV[4]
local p = pkg_read(ARGV[3])
if not p then return 'missing' end
if step == 'PRUNE' then
  local index, member, queue = pkg_queue(p)
  redis.call('DEL', queue)
  redis.call('ZREM', index, member)
  return 'pruned'
end
local remaining = p.size - p.used
local kind = 'PACKAGE_ALERT_KIND_' .. step
if p.status ~= 'active' or remaining <= 0 or not pkg_flag(p, kind) then return 'skipped' end
pkg_write(p)
raise_alert(p, kind, remaining)
flush_alerts(KEYS[1], ARGV[7], ARGV[8])
return 'raised'
