-- Puts a delivery of this endpoint back to pending for an attempt now, with a fresh retry
-- schedule (round_start = the attempts made so far).
-- Positions and constants (DL_*: a generated preamble): WebhookRedeliverScript (WebhookScripts.cs).
-- KEYS: the delivery hash.  ARGV: endpoint id, now (ms).
-- Returns 0 when there is no such delivery of this endpoint, else 1.
if redis.call('HGET', KEYS[1], 'endpoint') ~= ARGV[1] then return 0 end
local attempts = redis.call('HGET', KEYS[1], 'attempts')
redis.call('HSET', KEYS[1], 'state', DL_PENDING, 'next_at', ARGV[2], 'round_start', attempts)
return 1
