-- Files a new application for an account, once per idempotency key, if the account has neither
-- a pending application nor an opened service (R-ONB-1).
-- KEYS[1] = {acct:M}:onb:account  KEYS[2] = {acct:M}:onb:idem:app:<key>  KEYS[3] = {acct:M}:onb:app:<id>
-- KEYS[4] = {acct:M}:onb:apps
-- ARGV[1] = application id  ARGV[2] = submitted_at (ms)  ARGV[3] = history entry JSON, then field/value pairs of the application hash
-- Returns {'ok'|'dup', application id} or {'no_account'|'sub_account'|'pending'|'opened', existing id or ''}.
local existing = redis.call('GET', KEYS[2])
if existing then return {'dup', existing} end
local acct = redis.call('HMGET', KEYS[1], 'main', 'state', 'pending_application')
if redis.call('EXISTS', KEYS[1]) == 0 then return {'no_account', ''} end
if acct[1] and acct[1] ~= '' then return {'sub_account', ''} end
if acct[2] == 'pending_review' then return {'pending', acct[3] or ''} end
if acct[2] == 'opened' or acct[2] == 'suspended' then return {'opened', ''} end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[3], unpack(fields))
redis.call('RPUSH', KEYS[3] .. ':history', ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'pending_review', 'pending_application', ARGV[1])
redis.call('SET', KEYS[2], ARGV[1])
return {'ok', ARGV[1]}
