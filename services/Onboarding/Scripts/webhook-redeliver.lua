-- Puts a delivery of this endpoint back to pending for an attempt now, with a fresh retry
-- schedule (round_start = the attempts made so far), and counts the redelivery: an attempt in
-- flight meanwhile sees the count change and leaves the delivery pending (webhook-record-attempt.lua).
-- Positions and constants (DL_*, F_DL_*: a generated preamble): WebhookRedeliverScript (WebhookScripts.cs).
-- KEYS: the delivery hash.  ARGV: endpoint id, now (ms).
-- Returns 0 when there is no such delivery of this endpoint, else 1.
if redis.call('HGET', KEYS[1], F_DL_ENDPOINT) ~= ARGV[1] then return 0 end
local attempts = redis.call('HGET', KEYS[1], F_DL_ATTEMPTS)
redis.call('HSET', KEYS[1], F_DL_STATE, DL_PENDING, F_DL_NEXT_AT, ARGV[2], F_DL_ROUND_START, attempts)
redis.call('HINCRBY', KEYS[1], F_DL_REDELIVERIES, 1)
return 1
