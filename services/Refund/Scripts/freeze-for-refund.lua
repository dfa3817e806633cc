-- R-REF-1, R-REF-2: accepts a refund request and freezes the package in one atomic step, or says
-- which condition failed. A frozen (refunding) package leaves the deduction index at once, so
-- metering can no longer use it; a package that was ever deducted from (or backdated onto) can
-- never be frozen. Whichever of the refund and the first deduction runs first wins.
-- Positions, constants (F_*, STATE_*, ST_*, REASON_*: a generated preamble) and the reply's
-- meaning: FreezeForRefundScript (RefundScripts.cs), the only place that knows them.
-- KEYS: refund hash, idempotency key, the account's refund index.
-- ARGV: hash tag, refund id, package id, now (ms), refund deadline (exclusive, ms), history JSON (requested), (approved).
-- Returns {ST_OK|ST_DUP, refund id} or {REASON_*, existing refund id or ''}.
local TAG = ARGV[1]
-- #include lib-package.lua
-- #include lib-refund-rules.lua

local existing = redis.call('GET', KEYS[2])
if existing then return {ST_DUP, existing} end
local p = pkg_read(ARGV[3])
if not p then return {REASON_NOT_FOUND, ''} end
local refusal, related = refund_refusal(p, tonumber(ARGV[4]), tonumber(ARGV[5]))
if refusal then return {refusal, related} end
p.status, p.refund_id = PKG_REFUNDING, ARGV[2]
pkg_write(p)
pkg_dequeue(p)
redis.call('HSET', KEYS[1], F_ID, ARGV[2], F_PACKAGE, ARGV[3], F_LABEL, p.label, F_AMOUNT_FEN, p.price_fen,
  F_STATE, STATE_APPROVED, F_REQUESTED_AT, ARGV[4])
redis.call('RPUSH', KEYS[1] .. ':history', ARGV[6], ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('SET', KEYS[2], ARGV[2])
return {ST_OK, ARGV[2]}
