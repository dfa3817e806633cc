-- Suspends an account whose arrears stayed unpaid for the grace time (R-BIL-4), once, with the
-- ServiceSuspended event in its outbox in the same step (Packages and Metering honour it).
-- Positions and reply: SuspendScript (its contract); ST_* words, A_* fields, SS_* JSON names: the preamble.
-- KEYS[1] = {acct:M}:bil:acct   KEYS[2] = {acct:M}:bil:due   KEYS[3] = {acct:M}:outbox
-- ARGV[1] = account id  ARGV[2] = now (unix ms)  ARGV[3] = now ISO  ARGV[4] = suspend after (ms)
-- ARGV[5], ARGV[6] = ServiceSuspended topic, type; then the trace context (OutboxScript)
-- Returns {ST_SUSPENDED} | {ST_LATER, due at (unix ms)} | {ST_ALREADY} | {ST_CLEAR} (no arrears).
-- #include lib-outbox.lua
local acct, due, outbox = KEYS[1], KEYS[2], KEYS[3]
local account, now = ARGV[1], tonumber(ARGV[2])
local arrears = tonumber(redis.call('HGET', acct, A_ARREARS) or '0')
local since = tonumber(redis.call('HGET', acct, A_ARREARS_SINCE) or '')
if arrears <= 0 or not since then return {ST_CLEAR} end
if redis.call('HGET', acct, A_SUSPENDED) == YES then return {ST_ALREADY} end
local at = since + tonumber(ARGV[4])
if at > now then return {ST_LATER, string.format('%d', at)} end
local periods = redis.call('HKEYS', due)
table.sort(periods)
redis.call('HSET', acct, A_SUSPENDED, YES, A_SUSPENDED_AT, ARGV[2])
outbox_append(outbox, ARGV[5], ARGV[6],
  cjson.encode({ [SS_ACCOUNT_ID] = account, [SS_SUSPENDED_AT] = ARGV[3], [SS_BILL_ID] = BILL_ID_PREFIX .. (periods[1] or '') }),
  ARGV[2], EID_SUSPENDED .. ':' .. account .. ':' .. string.format('%d', since))
return {ST_SUSPENDED}
