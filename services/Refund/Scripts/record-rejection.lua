-- Records a refused refund request (R-REF-1) under its idempotency key, so that the refusal is
-- queryable (state rejected) and a retry with the same key gets the same answer, and writes
-- RefundRejected to the account's outbox in the same step, with its deterministic event id: a
-- retry with the key records and publishes nothing more.
-- The checks themselves ran in freeze-for-refund.lua, which writes nothing when it refuses.
-- Positions and constants (F_*, STATE_*: a generated preamble): RecordRejectionScript (RefundScripts.cs).
-- KEYS: idempotency key, refund hash, the account's refund index, the account's outbox.
-- ARGV: refund id, package id, label, package price (fen), now (ms), reason, history JSON (requested),
-- (rejected), RefundRejected topic, type, JSON, event id; then the trace context (OutboxScript).
-- Returns the refund id the key stands for: ARGV[1], or an earlier request's id with the same key.
-- #include lib-outbox.lua
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('HSET', KEYS[2], F_ID, ARGV[1], F_PACKAGE, ARGV[2], F_LABEL, ARGV[3], F_AMOUNT_FEN, ARGV[4],
  F_STATE, STATE_REJECTED, F_REQUESTED_AT, ARGV[5], F_REJECTED_AT, ARGV[5], F_REJECTION_REASON, ARGV[6])
redis.call('RPUSH', KEYS[2] .. ':history', ARGV[7], ARGV[8])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
redis.call('SET', KEYS[1], ARGV[1])
outbox_append(KEYS[4], ARGV[9], ARGV[10], ARGV[11], ARGV[5], ARGV[12])
return ARGV[1]
