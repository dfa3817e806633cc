-- Creates a webhook endpoint once per idempotency key (a replay returns the endpoint made first).
-- KEYS[1] = {acct:M}:wh:idem:<key>  KEYS[2] = {acct:M}:wh:ep:<id>  KEYS[3] = {acct:M}:wh:eps
-- ARGV[1] = endpoint id  ARGV[2] = created_at (ms)  ARGV[3] = max endpoints per account
-- ARGV[4..] = field, value pairs of the endpoint hash
-- Returns {'created'|'replayed', id} or {'limit', ''}.
local prior = redis.call('GET', KEYS[1])
if prior then return {'replayed', prior} end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then return {'limit', ''} end
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('SET', KEYS[1], ARGV[1], 'EX', 34560000)
return {'created', ARGV[1]}
