-- Records an enterprise verification of a main account (R-ONB-4), once per idempotency key, and
-- sets the account's enterprise_verified flag in the same step. A verified account may submit
-- again for the same credit code (new company name or legal representative; the verification
-- date stays); another credit code is refused.
-- KEYS[1] = {acct:M}:onb:account  KEYS[2] = {acct:M}:onb:enterprise  KEYS[3] = {acct:M}:onb:idem:ent:<key>
-- ARGV[1] = company name  ARGV[2] = credit code  ARGV[3] = legal representative  ARGV[4] = now (ms)
-- Returns {'ok'|'updated'|'dup'|'no_account'|'sub_account'|'conflict'}.
if redis.call('EXISTS', KEYS[3]) == 1 then return {'dup'} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'no_account'} end
local main = redis.call('HGET', KEYS[1], 'main')
if main and main ~= '' then return {'sub_account'} end
local current = redis.call('HGET', KEYS[2], 'code')
if current and current ~= ARGV[2] then return {'conflict'} end
local status = 'ok'
if current then
  redis.call('HSET', KEYS[2], 'company_name', ARGV[1], 'legal_representative', ARGV[3], 'updated_at', ARGV[4])
  status = 'updated'
else
  redis.call('HSET', KEYS[2], 'company_name', ARGV[1], 'code', ARGV[2], 'legal_representative', ARGV[3], 'verified_at', ARGV[4])
  redis.call('HSET', KEYS[1], 'enterprise_verified', '1')
end
redis.call('SET', KEYS[3], ARGV[2])
return {status}
