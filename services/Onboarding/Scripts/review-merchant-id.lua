-- Issues or rejects a pending E证通 merchant-id application atomically (R-ONB-5). The account's
-- FIRST issued merchant id also writes MerchantIdIssued to the account's outbox, with the
-- deterministic event id 'merchant-issued:<account>', in this same step: racing reviewers,
-- retries and replays issue once and publish once (Packages grants the free E证通 package on it).
-- Deciding an already decided application the same way returns it unchanged; the opposite
-- decision is refused.
-- KEYS[1] = {acct:M}:onb:account  KEYS[2] = {acct:M}:onb:mid:<id>  KEYS[3] = {acct:M}:outbox
-- ARGV[1] = decision (issued|rejected)  ARGV[2] = reason  ARGV[3] = reviewer  ARGV[4] = now (ms)
-- ARGV[5] = candidate merchant id  ARGV[6] = outbox time  ARGV[7] = traceparent  ARGV[8] = tracestate
-- ARGV[9..11] = MerchantIdIssued topic, type, JSON (naming the candidate id)  ARGV[12] = account id
-- ARGV[13] = application id
-- Returns {'ok'|'same'|'conflict'|'missing', status, issued now (1|0)}.
local status = redis.call('HGET', KEYS[2], 'status')
if not status then return {'missing', '', 0} end
if status ~= 'pending' then
  if status == ARGV[1] then return {'same', status, 0} end
  return {'conflict', status, 0}
end
local issued = 0
if ARGV[1] == 'issued' then
  local existing = redis.call('HGET', KEYS[1], 'merchant_id')
  if existing then
    redis.call('HSET', KEYS[2], 'merchant_id', existing)
  else
    redis.call('HSET', KEYS[1], 'merchant_id', ARGV[5], 'merchant_app', ARGV[13], 'merchant_issued_at', ARGV[4])
    redis.call('HSET', KEYS[2], 'merchant_id', ARGV[5])
    redis.call('XADD', KEYS[3], '*', 'topic', ARGV[9], 'type', ARGV[10], 'data', ARGV[11], 'time', ARGV[6],
      'traceparent', ARGV[7], 'tracestate', ARGV[8], 'id', 'merchant-issued:' .. ARGV[12])
    issued = 1
  end
end
redis.call('HSET', KEYS[2], 'status', ARGV[1], 'review_reason', ARGV[2], 'reviewer', ARGV[3], 'reviewed_at', ARGV[4])
if redis.call('HGET', KEYS[1], 'merchant_pending') == ARGV[13] then redis.call('HDEL', KEYS[1], 'merchant_pending') end
return {'ok', ARGV[1], issued}
