-- Suspends an account whose arrears stayed unpaid for the grace time (R-BIL-4), once, with the
-- ServiceSuspended event in its outbox in the same step (Packages and Metering honour it).
-- KEYS[1] = {acct:M}:bil:acct   KEYS[2] = {acct:M}:bil:due   KEYS[3] = {acct:M}:outbox
-- ARGV[1] = account id  ARGV[2] = now (unix ms)  ARGV[3] = now ISO  ARGV[4] = suspend after (ms)
-- ARGV[5], ARGV[6] = ServiceSuspended topic, type; then the trace context (OutboxScript)
-- Returns {'suspended'} | {'later', due at (unix ms)} | {'already'} | {'clear'} (no arrears).
-- #include lib-outbox.lua
local acct, due, outbox = KEYS[1], KEYS[2], KEYS[3]
local account, now = ARGV[1], tonumber(ARGV[2])
local arrears = tonumber(redis.call('HGET', acct, 'arrears_fen') or '0')
local since = tonumber(redis.call('HGET', acct, 'arrears_since') or '')
if arrears <= 0 or not since then return {'clear'} end
if redis.call('HGET', acct, 'suspended') == '1' then return {'already'} end
local at = since + tonumber(ARGV[4])
if at > now then return {'later', string.format('%d', at)} end
local periods = redis.call('HKEYS', due)
table.sort(periods)
redis.call('HSET', acct, 'suspended', '1', 'suspended_at', ARGV[2])
outbox_append(outbox, ARGV[5], ARGV[6],
  cjson.encode({ accountId = account, suspendedAt = ARGV[3], billId = 'bill-' .. (periods[1] or '') }),
  ARGV[2], 'suspended:' .. account .. ':' .. string.format('%d', since))
return {'suspended'}
