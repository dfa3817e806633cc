-- Files an E证通 merchant-id application (R-ONB-5), once per idempotency key, for a main account
-- that is enterprise-verified (R-ONB-4), whose service is opened, that has no merchant id yet
-- and no application waiting for review.
-- Positions, constants (ST_*, FLAG_ON, F_ACCT_*: a generated preamble) and the reply's meaning:
-- ApplyMerchantIdScript (EnterpriseScripts.cs), the only place that knows them.
-- KEYS: the account hash, the idempotency key, the application hash, the account's merchant-id application index.
-- ARGV: application id, submitted_at (ms), then field/value pairs of the application hash.
-- Returns {ST_OK|ST_DUP, application id} or {ST_NO_ACCOUNT|ST_SUB_ACCOUNT|ST_NOT_VERIFIED|ST_NOT_OPENED|ST_ISSUED|ST_PENDING, related id or ''}.
local existing = redis.call('GET', KEYS[2])
if existing then return {ST_DUP, existing} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {ST_NO_ACCOUNT, ''} end
local a = redis.call('HMGET', KEYS[1], F_ACCT_MAIN, F_ACCT_ENTERPRISE_VERIFIED, F_ACCT_ACTIVATED_AT, F_ACCT_MERCHANT_ID, F_ACCT_MERCHANT_APP, F_ACCT_MERCHANT_PENDING)
if a[1] and a[1] ~= '' then return {ST_SUB_ACCOUNT, ''} end
if a[2] ~= FLAG_ON then return {ST_NOT_VERIFIED, ''} end
if not a[3] then return {ST_NOT_OPENED, ''} end
if a[4] then return {ST_ISSUED, a[5] or ''} end
if a[6] then return {ST_PENDING, a[6]} end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[1], F_ACCT_MERCHANT_PENDING, ARGV[1], F_ACCT_MERCHANT_APP, ARGV[1])
redis.call('SET', KEYS[2], ARGV[1])
return {ST_OK, ARGV[1]}
