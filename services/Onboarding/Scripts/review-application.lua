-- Approves or rejects a pending application atomically (R-ONB-1, R-ONB-2). Approval opens the
-- service only if it was never opened, and only then emits ServiceActivated: re-approvals,
-- replays and racing reviewers never open it twice. Deciding an already decided application the
-- same way returns it unchanged; the opposite decision is refused.
-- Positions, constants (ST_*, SVC_*, APP_*, F_ACCT_*, F_APP_*: a generated preamble) and the reply's meaning:
-- ReviewApplicationScript (AccountScripts.cs), the only place that knows them.
-- KEYS: the account hash, the application hash, the account's outbox.
-- ARGV: decision (APP_APPROVED|APP_REJECTED), reason, reviewer, now (ms), history entry JSON, price book, cycle,
-- ServiceActivated topic, type, JSON, event id, ApplicationReviewed topic, type, JSON, event id,
-- the review's idempotency key (kept with the decision: the caller tells its retry from another
-- reviewer's request by it); then the trace context (OutboxScript).
-- Returns {ST_OK|ST_SAME|ST_CONFLICT|ST_MISSING, status, activated (1|0)}.
-- #include lib-outbox.lua
local status = redis.call('HGET', KEYS[2], F_APP_STATUS)
if not status then return {ST_MISSING, '', 0} end
if status ~= APP_PENDING then
  if status == ARGV[1] then return {ST_SAME, status, 0} end
  return {ST_CONFLICT, status, 0}
end
redis.call('HSET', KEYS[2], F_APP_STATUS, ARGV[1], F_APP_REVIEW_REASON, ARGV[2], F_APP_REVIEWER, ARGV[3], F_APP_REVIEWED_AT, ARGV[4], F_APP_REVIEW_KEY, ARGV[16])
redis.call('RPUSH', KEYS[2] .. ':history', ARGV[5])
redis.call('HDEL', KEYS[1], F_ACCT_PENDING_APPLICATION)
local activated = 0
if ARGV[1] == APP_APPROVED then
  if redis.call('HEXISTS', KEYS[1], F_ACCT_ACTIVATED_AT) == 0 then
    redis.call('HSET', KEYS[1], F_ACCT_STATE, SVC_OPENED, F_ACCT_ACTIVATED_AT, ARGV[4], F_ACCT_PRICE_BOOK, ARGV[6], F_ACCT_CYCLE, ARGV[7])
    outbox_append(KEYS[3], ARGV[8], ARGV[9], ARGV[10], ARGV[4], ARGV[11])
    activated = 1
  else
    redis.call('HSET', KEYS[1], F_ACCT_STATE, SVC_OPENED)
  end
else
  if redis.call('HEXISTS', KEYS[1], F_ACCT_ACTIVATED_AT) == 0 then
    redis.call('HSET', KEYS[1], F_ACCT_STATE, SVC_NOT_APPLIED)
  end
end
outbox_append(KEYS[3], ARGV[12], ARGV[13], ARGV[14], ARGV[4], ARGV[15])
return {ST_OK, ARGV[1], activated}
