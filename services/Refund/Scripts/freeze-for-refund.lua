-- R-REF-1, R-REF-2: accepts a refund request and freezes the package in one atomic step, or says
-- which condition failed. A frozen (refunding) package leaves the deduction index at once, so
-- metering can no longer use it; a package that was ever deducted from (or backdated onto) can
-- never be frozen. Whichever of the refund and the first deduction runs first wins.
-- KEYS[1] = {acct:M}:ref:<refund id>  KEYS[2] = {acct:M}:ref:idem:<key>  KEYS[3] = {acct:M}:refs
-- ARGV[1] = hash tag  ARGV[2] = refund id  ARGV[3] = package id  ARGV[4] = now (ms)
-- ARGV[5] = refund deadline, exclusive (ms)  ARGV[6] = history JSON (requested)  ARGV[7] = history JSON (approved)
-- Returns {'ok'|'dup', refund id} or {reason, existing refund id or ''}; reasons:
-- REFUND_PACKAGE_NOT_FOUND, REFUND_PACKAGE_FREE, REFUND_ALREADY_REQUESTED, REFUND_PACKAGE_USED, REFUND_WINDOW_CLOSED.
local TAG = ARGV[1]
-- #include lib-package.lua
-- #include lib-refund-rules.lua

local existing = redis.call('GET', KEYS[2])
if existing then return {'dup', existing} end
local p = pkg_read(ARGV[3])
if not p then return {'REFUND_PACKAGE_NOT_FOUND', ''} end
local refusal, related = refund_refusal(p, tonumber(ARGV[4]), tonumber(ARGV[5]))
if refusal then return {refusal, related} end
p.status, p.refund_id = PKG_REFUNDING, ARGV[2]
pkg_write(p)
pkg_dequeue(p)
redis.call('HSET', KEYS[1], 'id', ARGV[2], 'package', ARGV[3], 'label', p.label, 'amount_fen', p.price_fen,
  'state', 'approved', 'requested_at', ARGV[4])
redis.call('RPUSH', KEYS[1] .. ':history', ARGV[6], ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('SET', KEYS[2], ARGV[2])
return {'ok', ARGV[2]}
