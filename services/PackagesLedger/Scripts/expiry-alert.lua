-- A time-based step of one package, run by the expiry scheduler when due (R-PKG-6, R-PKG-2): the
-- EXPIRING_7D / EXPIRING_1D / EXPIRED alerts are raised once if calls remain; the prune removes the
-- package's group (every package of its label, kind, expiry and purchase day: they all reach
-- the prune together) from the deduction index once no late record can still use it.
-- Positions: PackageStepScript (its Bind and Parse); ST_*: its preamble.
-- KEYS[1] = {acct:M}:outbox
-- ARGV[1] = hash tag  ARGV[2] = main account id  ARGV[3] = package id  ARGV[4] = the alert kind to raise
-- (its protobuf name), or '' to prune  ARGV[5] = now (ms)  ARGV[6] = now ISO  ARGV[7], ARGV[8] = alert topic
-- and type; then the trace context (OutboxScript)
-- Returns ST_RAISED, ST_SKIPPED, ST_PRUNED or ST_MISSING.
local TAG, ACCOUNT, NOW, NOW_ISO = ARGV[1], ARGV[2], ARGV[5], ARGV[6]
-- #include lib-usage.lua

local kind = ARGV[4]
local p = pkg_read(ARGV[3])
if not p then return ST_MISSING end
if kind == '' then
  local index, member, queue = pkg_queue(p)
  redis.call('DEL', queue)
  redis.call('ZREM', index, member)
  return ST_PRUNED
end
local remaining = p.size - p.used
if p.status ~= PKG_ACTIVE or remaining <= 0 or not pkg_flag(p, kind) then return ST_SKIPPED end
pkg_write(p)
raise_alert(p, kind, remaining)
flush_alerts(KEYS[1], ARGV[7], ARGV[8])
return ST_RAISED
