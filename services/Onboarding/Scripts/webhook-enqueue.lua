-- Records one webhook delivery once per delivery id (= event, event type and endpoint): the
-- consumer of a redelivered event finds it and adds nothing. The due entry (wh:due, another slot)
-- is written after this script (WebhookStore.EnqueueAsync), also when the delivery existed, so a
-- crash in between is repaired by the event's redelivery.
-- Positions: WebhookEnqueueScript (WebhookScripts.cs).
-- KEYS: the delivery hash, the endpoint's delivery log.
-- ARGV: delivery id, created_at (ms), retention (s), log length kept, then field, value pairs of the delivery hash.
-- Returns 1 when recorded now, 0 when the delivery existed.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[4]) - 1)
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
