-- Creates a webhook endpoint once per idempotency key (a replay returns the endpoint made first).
-- Positions and constants (IDEM_TTL_S, ST_*: a generated preamble): WebhookCreateScript (WebhookScripts.cs).
-- KEYS: the idempotency key, the endpoint hash, the account's endpoint index.
-- ARGV: endpoint id, created_at (ms), max endpoints per account, then field, value pairs of the endpoint hash.
-- Returns {ST_CREATED|ST_REPLAYED, id} or {ST_LIMIT, ''}.
local prior = redis.call('GET', KEYS[1])
if prior then return {ST_REPLAYED, prior} end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then return {ST_LIMIT, ''} end
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('SET', KEYS[1], ARGV[1], 'EX', IDEM_TTL_S)
return {ST_CREATED, ARGV[1]}
