-- Adds cash to an account's balance once per idempotency key (R-BIL-4), then pays what is due,
-- oldest bill first; when the arrears reach 0 a suspended account resumes: ServiceResumed goes to
-- the outbox in the same step.
-- KEYS[1] = {acct:M}:bil:acct   KEYS[2] = {acct:M}:bil:topup:<key>   KEYS[3] = {acct:M}:bil:due   KEYS[4] = {acct:M}:outbox
-- ARGV[1] = account id  ARGV[2] = amount fen  ARGV[3] = now (unix ms)  ARGV[4] = now ISO
-- ARGV[5], ARGV[6] = ServiceResumed topic, type
-- ARGV[7] = idempotency key retention (s); then the trace context (OutboxScript)
-- Returns {'ok'|'dup', "amount|balance|arrears|suspended|arrears_since"} or {'unknown'}.
-- #include lib-payment.lua
local acct, idem, due, outbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prev = redis.call('GET', idem)
if prev then return {'dup', prev} end
if redis.call('HEXISTS', acct, 'activated_at') == 0 then return {'unknown'} end

local balance = tonumber(redis.call('HGET', acct, 'balance_fen') or '0') + tonumber(ARGV[2])
local arrears
balance, arrears = pay_due(acct, due, outbox, balance, ARGV[1], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
local snapshot = ARGV[2] .. '|' .. fmt(balance) .. '|' .. fmt(arrears) .. '|' ..
  (redis.call('HGET', acct, 'suspended') or '0') .. '|' .. (redis.call('HGET', acct, 'arrears_since') or '')
redis.call('SET', idem, snapshot, 'EX', ARGV[7])
return {'ok', snapshot}
