-- R-REF-3: credits an approved refund exactly once: the package becomes refunded, the refund
-- credited, and RefundCompleted (Billing adds the amount to the balance) enters the outbox, together.
-- Positions, constants (F_*, STATE_*, RE_*: a generated preamble) and the reply's meaning:
-- CompleteRefundScript (RefundScripts.cs), the only place that knows them.
-- KEYS: refund hash, the account's outbox.
-- ARGV: now (ms), history JSON (credited), RefundCompleted topic, type, JSON, event id, hash tag,
-- package id; then the trace context (OutboxScript).
-- Returns RE_CREDITED (now), RE_ALREADY (earlier), RE_MISSING, or the refund's state when it cannot be credited.
local TAG = ARGV[7]
-- #include lib-package.lua
-- #include lib-outbox.lua

local state = redis.call('HGET', KEYS[1], F_STATE)
if state == STATE_CREDITED then return RE_ALREADY end
if state ~= STATE_APPROVED then return state or RE_MISSING end
redis.call('HSET', KEYS[1], F_STATE, STATE_CREDITED, F_CREDITED_AT, ARGV[1])
redis.call('RPUSH', KEYS[1] .. ':history', ARGV[2])
local p = pkg_read(ARGV[8])
if p then
  p.status = PKG_REFUNDED
  pkg_write(p)
end
outbox_append(KEYS[2], ARGV[3], ARGV[4], ARGV[5], ARGV[1], ARGV[6])
return RE_CREDITED
