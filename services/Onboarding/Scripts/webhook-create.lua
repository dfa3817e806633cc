-- Creates a webhook endpoint once per idempotency key (a replay returns the endpoint made first).
-- Positions and constants (IDEM_TTL_S, ST_*: a generated preamble): WebhookCreateScript (WebhookScripts.cs).
-- KEYS: the idempotency key, the endpoint hash, the account's endpoint index.
-- ARGV: endpoint id, created_at (ms), max endpoints per account, the value kept under the key (endpoint id and the
-- request's fingerprint), then field, value pairs of the endpoint hash.
-- Returns {ST_CREATED, kept value} or {ST_REPLAYED, the value the key's first request kept} or {ST_LIMIT, ''}.
local prior = redis.call('GET', KEYS[1])
if prior then return {ST_REPLAYED, prior} end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then return {ST_LIMIT, ''} end
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('SET', KEYS[1], ARGV[4], 'EX', IDEM_TTL_S)
return {ST_CREATED, ARGV[4]}
