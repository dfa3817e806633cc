-- Records an enterprise verification of a main account (R-ONB-4), once per idempotency key, and
-- sets the account's enterprise_verified flag in the same step; the first verification also writes
-- EnterpriseVerified to the account's outbox (event id per account: published once, ever), from which
-- the ledger learns that the account may use E证通. A verified account may submit
-- again for the same credit code (new company name or legal representative; the verification
-- date stays); another credit code is refused.
-- Positions, constants (ST_*, FLAG_ON, F_ACCT_*, F_ENT_*: a generated preamble) and the reply's meaning:
-- SubmitEnterpriseVerificationScript (EnterpriseScripts.cs), the only place that knows them.
-- KEYS: the account hash, the enterprise hash, the idempotency key, the account's outbox.
-- ARGV: company name, credit code, legal representative, now (ms), EnterpriseVerified topic, type, JSON,
-- event id, the request's fingerprint (kept under the key: later submissions change the record); then the
-- trace context (OutboxScript).
-- Returns {ST_OK|ST_UPDATED|ST_NO_ACCOUNT|ST_SUB_ACCOUNT|ST_CONFLICT, ''} or {ST_DUP, the fingerprint the key kept}.
-- #include lib-outbox.lua
local kept = redis.call('GET', KEYS[3])
if kept then return {ST_DUP, kept} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {ST_NO_ACCOUNT, ''} end
local main = redis.call('HGET', KEYS[1], F_ACCT_MAIN)
if main and main ~= '' then return {ST_SUB_ACCOUNT, ''} end
local current = redis.call('HGET', KEYS[2], F_ENT_CODE)
if current and current ~= ARGV[2] then return {ST_CONFLICT, ''} end
local status = ST_OK
if current then
  redis.call('HSET', KEYS[2], F_ENT_COMPANY_NAME, ARGV[1], F_ENT_LEGAL_REPRESENTATIVE, ARGV[3], F_ENT_UPDATED_AT, ARGV[4])
  status = ST_UPDATED
else
  redis.call('HSET', KEYS[2], F_ENT_COMPANY_NAME, ARGV[1], F_ENT_CODE, ARGV[2], F_ENT_LEGAL_REPRESENTATIVE, ARGV[3], F_ENT_VERIFIED_AT, ARGV[4])
  redis.call('HSET', KEYS[1], F_ACCT_ENTERPRISE_VERIFIED, FLAG_ON)
  outbox_append(KEYS[4], ARGV[5], ARGV[6], ARGV[7], ARGV[4], ARGV[8])
end
redis.call('SET', KEYS[3], ARGV[9])
return {status, ''}
