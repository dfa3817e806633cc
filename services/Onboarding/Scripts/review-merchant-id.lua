-- Issues or rejects a pending E证通 merchant-id application atomically (R-ONB-5). The account's
-- FIRST issued merchant id also writes MerchantIdIssued to the account's outbox, with a
-- deterministic event id per account, in this same step: racing reviewers, retries and replays
-- issue once and publish once (Packages grants the free E证通 package on it).
-- A rejection writes MerchantIdRejected with a deterministic event id per application, also in
-- this step: only the pending-to-rejected change writes it, so it is published once.
-- Deciding an already decided application the same way returns it unchanged; the opposite
-- decision is refused.
-- Positions, constants (ST_*, APP_*, F_ACCT_*, F_MID_*: a generated preamble) and the reply's meaning:
-- ReviewMerchantIdScript (EnterpriseScripts.cs), the only place that knows them.
-- KEYS: the account hash, the application hash, the account's outbox.
-- ARGV: decision (APP_ISSUED|APP_REJECTED), reason, reviewer, now (ms), candidate merchant id,
-- MerchantIdIssued topic, type, JSON (naming the candidate id), event id, application id,
-- MerchantIdRejected topic, type, JSON, event id, the review's idempotency key (kept with the
-- decision: the caller tells its retry from another reviewer's request by it); then the trace
-- context (OutboxScript).
-- Returns {ST_OK|ST_SAME|ST_CONFLICT|ST_MISSING, status, issued now (1|0), an event written now (1|0)}.
-- #include lib-outbox.lua
local status = redis.call('HGET', KEYS[2], F_MID_STATUS)
if not status then return {ST_MISSING, '', 0, 0} end
if status ~= APP_PENDING then
  if status == ARGV[1] then return {ST_SAME, status, 0, 0} end
  return {ST_CONFLICT, status, 0, 0}
end
local issued = 0
if ARGV[1] == APP_ISSUED then
  local existing = redis.call('HGET', KEYS[1], F_ACCT_MERCHANT_ID)
  if existing then
    redis.call('HSET', KEYS[2], F_MID_MERCHANT_ID, existing)
  else
    redis.call('HSET', KEYS[1], F_ACCT_MERCHANT_ID, ARGV[5], F_ACCT_MERCHANT_APP, ARGV[10], F_ACCT_MERCHANT_ISSUED_AT, ARGV[4])
    redis.call('HSET', KEYS[2], F_MID_MERCHANT_ID, ARGV[5])
    outbox_append(KEYS[3], ARGV[6], ARGV[7], ARGV[8], ARGV[4], ARGV[9])
    issued = 1
  end
else
  outbox_append(KEYS[3], ARGV[11], ARGV[12], ARGV[13], ARGV[4], ARGV[14])
end
redis.call('HSET', KEYS[2], F_MID_STATUS, ARGV[1], F_MID_REVIEW_REASON, ARGV[2], F_MID_REVIEWER, ARGV[3], F_MID_REVIEWED_AT, ARGV[4], F_MID_REVIEW_KEY, ARGV[15])
if redis.call('HGET', KEYS[1], F_ACCT_MERCHANT_PENDING) == ARGV[10] then redis.call('HDEL', KEYS[1], F_ACCT_MERCHANT_PENDING) end
return {ST_OK, ARGV[1], issued, ARGV[1] == APP_REJECTED and 1 or issued}
