-- Files an E证通 merchant-id application (R-ONB-5), once per idempotency key, for a main account
-- that is enterprise-verified (R-ONB-4), whose service is opened, that has no merchant id yet
-- and no application waiting for review.
-- KEYS[1] = {acct:M}:onb:account  KEYS[2] = {acct:M}:onb:idem:mid:<key>  KEYS[3] = {acct:M}:onb:mid:<id>
-- KEYS[4] = {acct:M}:onb:mids
-- ARGV[1] = application id  ARGV[2] = submitted_at (ms), then field/value pairs of the application hash
-- Returns {'ok'|'dup', application id} or {'no_account'|'sub_account'|'not_verified'|'not_opened'|'issued'|'pending', related id or ''}.
local existing = redis.call('GET', KEYS[2])
if existing then return {'dup', existing} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'no_account', ''} end
local a = redis.call('HMGET', KEYS[1], 'main', 'enterprise_verified', 'activated_at', 'merchant_id', 'merchant_app', 'merchant_pending')
if a[1] and a[1] ~= '' then return {'sub_account', ''} end
if a[2] ~= '1' then return {'not_verified', ''} end
if not a[3] then return {'not_opened', ''} end
if a[4] then return {'issued', a[5] or ''} end
if a[6] then return {'pending', a[6]} end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[1], 'merchant_pending', ARGV[1], 'merchant_app', ARGV[1])
redis.call('SET', KEYS[2], ARGV[1])
return {'ok', ARGV[1]}
