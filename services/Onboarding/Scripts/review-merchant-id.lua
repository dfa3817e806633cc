-- Issues or rejects a pending E证通 merchant-id application atomically (R-ONB-5). The account's
-- FIRST issued merchant id also writes MerchantIdIssued to the account's outbox, with the
-- deterministic event id 'merchant-issued:<account>', in this same step: racing reviewers,
-- retries and replays issue once and publish once (Packages grants the free E证通 package on it).
-- A rejection writes MerchantIdRejected with the event id 'merchant-rejected:<application id>',
-- also in this step: only the pending-to-rejected change writes it, so it is published once.
-- Deciding an already decided application the same way returns it unchanged; the opposite
-- decision is refused.
-- KEYS[1] = {acct:M}:onb:account  KEYS[2] = {acct:M}:onb:mid:<id>  KEYS[3] = {acct:M}:outbox
-- ARGV[1] = decision (issued|rejected)  ARGV[2] = reason  ARGV[3] = reviewer  ARGV[4] = now (ms)
-- ARGV[5] = candidate merchant id  ARGV[6] = outbox time
-- ARGV[7..9] = MerchantIdIssued topic, type, JSON (naming the candidate id)  ARGV[10] = account id
-- ARGV[11] = application id  ARGV[12..14] = MerchantIdRejected topic, type, JSON
-- then the trace context (OutboxScript)
-- Returns {'ok'|'same'|'conflict'|'missing', status, issued now (1|0), an event written now (1|0)}.
-- #include lib-outbox.lua
local status = redis.call('HGET', KEYS[2], 'status')
if not status then return {'missing', '', 0, 0} end
if status ~= 'pending' then
  if status == ARGV[1] then return {'same', status, 0, 0} end
  return {'conflict', status, 0, 0}
end
local issued = 0
if ARGV[1] == 'issued' then
  local existing = redis.call('HGET', KEYS[1], 'merchant_id')
  if existing then
    redis.call('HSET', KEYS[2], 'merchant_id', existing)
  else
    redis.call('HSET', KEYS[1], 'merchant_id', ARGV[5], 'merchant_app', ARGV[11], 'merchant_issued_at', ARGV[4])
    redis.call('HSET', KEYS[2], 'merchant_id', ARGV[5])
    outbox_append(KEYS[3], ARGV[7], ARGV[8], ARGV[9], ARGV[6], 'merchant-issued:' .. ARGV[10])
    issued = 1
  end
else
  outbox_append(KEYS[3], ARGV[12], ARGV[13], ARGV[14], ARGV[6], 'merchant-rejected:' .. ARGV[11])
end
redis.call('HSET', KEYS[2], 'status', ARGV[1], 'review_reason', ARGV[2], 'reviewer', ARGV[3], 'reviewed_at', ARGV[4])
if redis.call('HGET', KEYS[1], 'merchant_pending') == ARGV[11] then redis.call('HDEL', KEYS[1], 'merchant_pending') end
return {'ok', ARGV[1], issued, ARGV[1] == 'rejected' and 1 or issued}
