-- Files a new application for an account, once per idempotency key, if the account has neither
-- a pending application nor an opened service (R-ONB-1).
-- Positions, constants (ST_*, SVC_*, F_ACCT_*: a generated preamble) and the reply's meaning:
-- SubmitApplicationScript (AccountScripts.cs), the only place that knows them.
-- KEYS: the account hash, the idempotency key, the application hash, the account's application index.
-- ARGV: application id, submitted_at (ms), history entry JSON, then field/value pairs of the application hash.
-- Returns {ST_OK|ST_DUP, application id} or {ST_NO_ACCOUNT|ST_SUB_ACCOUNT|ST_PENDING|ST_OPENED, existing id or ''}.
local existing = redis.call('GET', KEYS[2])
if existing then return {ST_DUP, existing} end
local acct = redis.call('HMGET', KEYS[1], F_ACCT_MAIN, F_ACCT_STATE, F_ACCT_PENDING_APPLICATION)
if redis.call('EXISTS', KEYS[1]) == 0 then return {ST_NO_ACCOUNT, ''} end
if acct[1] and acct[1] ~= '' then return {ST_SUB_ACCOUNT, ''} end
if acct[2] == SVC_PENDING_REVIEW then return {ST_PENDING, acct[3] or ''} end
if acct[2] == SVC_OPENED or acct[2] == SVC_SUSPENDED then return {ST_OPENED, ''} end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('RPUSH', KEYS[3] .. ':history', ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[1], F_ACCT_STATE, SVC_PENDING_REVIEW, F_ACCT_PENDING_APPLICATION, ARGV[1])
redis.call('SET', KEYS[2], ARGV[1])
return {ST_OK, ARGV[1]}
