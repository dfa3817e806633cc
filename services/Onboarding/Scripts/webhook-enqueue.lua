-- Records one webhook delivery once per delivery id (= event, event type and endpoint): the
-- consumer of a redelivered event finds it and adds nothing. The due entry (wh:due, another slot)
-- is written before this script, so a crash in between leaves a pointer the worker drops.
-- KEYS[1] = {acct:M}:wh:dl:<delivery id>  KEYS[2] = {acct:M}:wh:log:<endpoint id>
-- ARGV[1] = delivery id  ARGV[2] = created_at (ms)  ARGV[3] = retention (s)  ARGV[4] = log length kept
-- ARGV[5..] = field, value pairs of the delivery hash
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[4]) - 1)
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
