-- Approves or rejects a pending application atomically (R-ONB-1, R-ONB-2). Approval opens the
-- service only if it was never opened, and only then emits ServiceActivated: re-approvals,
-- replays and racing reviewers never open it twice. Deciding an already decided application the
-- same way returns it unchanged; the opposite decision is refused.
-- KEYS[1] = {acct:M}:onb:account  KEYS[2] = {acct:M}:onb:app:<id>  KEYS[3] = {acct:M}:outbox
-- ARGV[1] = decision (approved|rejected)  ARGV[2] = reason  ARGV[3] = reviewer  ARGV[4] = now (ms)
-- ARGV[5] = history entry JSON  ARGV[6] = price book  ARGV[7] = cycle
-- ARGV[8] = outbox time
-- ARGV[9..11] = ServiceActivated topic, type, JSON   ARGV[12..14] = ApplicationReviewed topic, type, JSON
-- ARGV[15] = application id  ARGV[16] = account id; then the trace context (OutboxScript)
-- Returns {'ok'|'same'|'conflict'|'missing', status, activated (1|0)}.
-- #include lib-outbox.lua
local status = redis.call('HGET', KEYS[2], 'status')
if not status then return {'missing', '', 0} end
if status ~= 'pending' then
  if status == ARGV[1] then return {'same', status, 0} end
  return {'conflict', status, 0}
end
redis.call('HSET', KEYS[2], 'status', ARGV[1], 'review_reason', ARGV[2], 'reviewer', ARGV[3], 'reviewed_at', ARGV[4])
redis.call('RPUSH', KEYS[2] .. ':history', ARGV[5])
redis.call('HDEL', KEYS[1], 'pending_application')
local activated = 0
if ARGV[1] == 'approved' then
  if redis.call('HEXISTS', KEYS[1], 'activated_at') == 0 then
    redis.call('HSET', KEYS[1], 'state', 'opened', 'activated_at', ARGV[4], 'price_book', ARGV[6], 'cycle', ARGV[7])
    outbox_append(KEYS[3], ARGV[9], ARGV[10], ARGV[11], ARGV[8], 'activated:' .. ARGV[16])
    activated = 1
  else
    redis.call('HSET', KEYS[1], 'state', 'opened')
  end
else
  if redis.call('HEXISTS', KEYS[1], 'activated_at') == 0 then
    redis.call('HSET', KEYS[1], 'state', 'not_applied')
  end
end
outbox_append(KEYS[3], ARGV[12], ARGV[13], ARGV[14], ARGV[8], 'reviewed:' .. ARGV[15])
return {'ok', ARGV[1], activated}
