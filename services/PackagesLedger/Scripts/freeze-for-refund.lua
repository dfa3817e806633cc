-- R-REF-1, R-REF-2: accepts a refund request and freezes the package in one atomic step, or says
-- which condition failed. A frozen (refunding) package leaves the deduction index at once, so
-- metering can no longer use it; a package that was ever deducted from (or backdated onto) can
-- never be frozen. Whichever of the refund and the first deduction runs first wins.
-- KEYS[1] = {acct:M}:pkg:<id>  KEYS[2] = {acct:M}:ref:<refund id>  KEYS[3] = {acct:M}:ref:idem:<key>
-- KEYS[4] = {acct:M}:refs
-- ARGV[1] = hash tag  ARGV[2] = refund id  ARGV[3] = package id  ARGV[4] = now (ms)
-- ARGV[5] = refund deadline, exclusive (ms)  ARGV[6] = history JSON (requested)  ARGV[7] = history JSON (approved)
-- Returns {'ok'|'dup', refund id} or {reason, existing refund id or ''}; reasons:
-- REFUND_PACKAGE_NOT_FOUND, REFUND_PACKAGE_FREE, REFUND_ALREADY_REQUESTED, REFUND_PACKAGE_USED, REFUND_WINDOW_CLOSED.
local existing = redis.call('GET', KEYS[3])
if existing then return {'dup', existing} end
local p = redis.call('HMGET', KEYS[1], 'label', 'free', 'used', 'backdated', 'status', 'expires_at', 'price_fen', 'refund_id', 'purchased_at')
if not p[1] then return {'REFUND_PACKAGE_NOT_FOUND', ''} end
if p[2] == '1' then return {'REFUND_PACKAGE_FREE', ''} end
if p[5] ~= 'active' then return {'REFUND_ALREADY_REQUESTED', p[8] or ''} end
if tonumber(p[3]) > 0 or tonumber(p[4] or '0') > 0 then return {'REFUND_PACKAGE_USED', ''} end
if tonumber(ARGV[4]) >= tonumber(ARGV[5]) then return {'REFUND_WINDOW_CLOSED', ''} end
redis.call('HSET', KEYS[1], 'status', 'refunding', 'refund_id', ARGV[2])
-- The package's member of its label's index (PackageLedger.OrderKey; a refundable package is never free).
redis.call('ZREM', ARGV[1] .. ':avail:' .. p[1], string.format('1|%013d|%013d|%s', tonumber(p[6]), tonumber(p[9]), ARGV[3]))
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'package', ARGV[3], 'label', p[1], 'amount_fen', p[7],
  'state', 'approved', 'requested_at', ARGV[4])
redis.call('RPUSH', KEYS[2] .. ':history', ARGV[6], ARGV[7])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
redis.call('SET', KEYS[3], ARGV[2])
return {'ok', ARGV[2]}
