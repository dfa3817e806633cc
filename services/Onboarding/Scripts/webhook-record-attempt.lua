-- Records one delivery attempt and its consequences in one step: the attempt log, the delivery's
-- state (delivered, pending with its next time, or failed once the schedule is used up), the
-- endpoint's failures in a row, and — when they reach the threshold — the endpoint disabled with
-- its notice in the account's inbox (the same writes as deliver-inbox.lua).
-- A redelivery asked for while this attempt was in flight (redeliveries differ from the claimant's)
-- is not answered by it: the delivery stays pending, due as the redelivery left it, in a new round
-- that starts after this attempt.
-- Positions, constants (DL_*, EP_*, ST_*, ARG_TRUE, F_DL_*, F_EP_*: a generated preamble) and the reply's meaning:
-- WebhookRecordAttemptScript (WebhookScripts.cs), the only place that knows them.
-- KEYS: the delivery hash, its attempts list, the endpoint hash, the inbox, the unread set, the messages hash.
-- ARGV: attempts seen by the claimant, attempt JSON, ARG_TRUE on success, next attempt (ms) or ''
-- when the schedule is used up, failure threshold, now (ms), inbox message id, inbox message JSON, retention (s),
-- redeliveries seen by the claimant.
-- Returns {ST_DELIVERED|ST_RETRY|ST_FAILED|ST_REDELIVERED|ST_STALE, endpoint disabled now 0|1}.
if redis.call('HGET', KEYS[1], F_DL_STATE) ~= DL_PENDING or redis.call('HGET', KEYS[1], F_DL_ATTEMPTS) ~= ARGV[1] then
  return {ST_STALE, 0}
end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[9])
local attempts = redis.call('HINCRBY', KEYS[1], F_DL_ATTEMPTS, 1)
local redelivered = (redis.call('HGET', KEYS[1], F_DL_REDELIVERIES) or '0') ~= ARGV[10]
if redelivered then redis.call('HSET', KEYS[1], F_DL_ROUND_START, attempts) end
local endpoint = redis.call('EXISTS', KEYS[3]) == 1
if ARGV[3] == ARG_TRUE then
  if not redelivered then redis.call('HSET', KEYS[1], F_DL_STATE, DL_DELIVERED, F_DL_NEXT_AT, '') end
  if endpoint then redis.call('HSET', KEYS[3], F_EP_FAILURES, 0) end
  return {redelivered and ST_REDELIVERED or ST_DELIVERED, 0}
end
local outcome = ST_RETRY
if redelivered then
  outcome = ST_REDELIVERED
elseif ARGV[4] == '' then
  redis.call('HSET', KEYS[1], F_DL_STATE, DL_FAILED, F_DL_NEXT_AT, '')
  outcome = ST_FAILED
else
  redis.call('HSET', KEYS[1], F_DL_NEXT_AT, ARGV[4])
end
if not endpoint then return {outcome, 0} end
local failures = redis.call('HINCRBY', KEYS[3], F_EP_FAILURES, 1)
if failures >= tonumber(ARGV[5]) and redis.call('HGET', KEYS[3], F_EP_ENABLED) == EP_ENABLED then
  redis.call('HSET', KEYS[3], F_EP_ENABLED, EP_DISABLED, F_EP_DISABLED_REASON, EP_DISABLED_FAILING, F_EP_UPDATED_AT, ARGV[6])
  if redis.call('HEXISTS', KEYS[6], ARGV[7]) == 0 then
    redis.call('ZADD', KEYS[4], ARGV[6], ARGV[7])
    redis.call('ZADD', KEYS[5], ARGV[6], ARGV[7])
    redis.call('HSET', KEYS[6], ARGV[7], ARGV[8])
  end
  return {outcome, 1}
end
return {outcome, 0}
