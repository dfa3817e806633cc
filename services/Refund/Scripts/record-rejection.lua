-- Records a refused refund request (R-REF-1) under its idempotency key, so that the refusal is
-- queryable (state rejected) and a retry with the same key gets the same answer, and writes
-- RefundRejected to the account's outbox in the same step, with the deterministic event id
-- 'refund-rejected:<refund id>': a retry with the key records and publishes nothing more.
-- The checks themselves ran in freeze-for-refund.lua, which writes nothing when it refuses.
-- KEYS[1] = {acct:M}:ref:idem:<key>  KEYS[2] = {acct:M}:ref:<refund id>  KEYS[3] = {acct:M}:refs
-- KEYS[4] = {acct:M}:outbox
-- ARGV[1] = refund id  ARGV[2] = package id  ARGV[3] = label  ARGV[4] = package price (fen)
-- ARGV[5] = now (ms)  ARGV[6] = reason  ARGV[7] = history JSON (requested)  ARGV[8] = history JSON (rejected)
-- ARGV[9..11] = RefundRejected topic, type, JSON; then the trace context (OutboxScript)
-- Returns the refund id the key stands for: ARGV[1], or an earlier request's id with the same key.
-- #include lib-outbox.lua
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'package', ARGV[2], 'label', ARGV[3], 'amount_fen', ARGV[4],
  'state', 'rejected', 'requested_at', ARGV[5], 'rejected_at', ARGV[5], 'rejection_reason', ARGV[6])
redis.call('RPUSH', KEYS[2] .. ':history', ARGV[7], ARGV[8])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
redis.call('SET', KEYS[1], ARGV[1])
outbox_append(KEYS[4], ARGV[9], ARGV[10], ARGV[11], ARGV[5], 'refund-rejected:' .. ARGV[1])
return ARGV[1]
