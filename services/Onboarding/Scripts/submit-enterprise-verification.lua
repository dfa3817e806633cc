-- Records an enterprise verification of a main account (R-ONB-4), once per idempotency key, and
-- sets the account's enterprise_verified flag in the same step. A verified account may submit
-- again for the same credit code (new company name or legal representative; the verification
-- date stays); another credit code is refused.
-- Positions, constants (ST_*, FLAG_ON, F_ACCT_*, F_ENT_*: a generated preamble) and the reply's meaning:
-- SubmitEnterpriseVerificationScript (EnterpriseScripts.cs), the only place that knows them.
-- KEYS: the account hash, the enterprise hash, the idempotency key.
-- ARGV: company name, credit code, legal representative, now (ms).
-- Returns {ST_OK|ST_UPDATED|ST_DUP|ST_NO_ACCOUNT|ST_SUB_ACCOUNT|ST_CONFLICT}.
if redis.call('EXISTS', KEYS[3]) == 1 then return {ST_DUP} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {ST_NO_ACCOUNT} end
local main = redis.call('HGET', KEYS[1], F_ACCT_MAIN)
if main and main ~= '' then return {ST_SUB_ACCOUNT} end
local current = redis.call('HGET', KEYS[2], F_ENT_CODE)
if current and current ~= ARGV[2] then return {ST_CONFLICT} end
local status = ST_OK
if current then
  redis.call('HSET', KEYS[2], F_ENT_COMPANY_NAME, ARGV[1], F_ENT_LEGAL_REPRESENTATIVE, ARGV[3], F_ENT_UPDATED_AT, ARGV[4])
  status = ST_UPDATED
else
  redis.call('HSET', KEYS[2], F_ENT_COMPANY_NAME, ARGV[1], F_ENT_CODE, ARGV[2], F_ENT_LEGAL_REPRESENTATIVE, ARGV[3], F_ENT_VERIFIED_AT, ARGV[4])
  redis.call('HSET', KEYS[1], F_ACCT_ENTERPRISE_VERIFIED, FLAG_ON)
end
redis.call('SET', KEYS[3], ARGV[2])
return {status}
