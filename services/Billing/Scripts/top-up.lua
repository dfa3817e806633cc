-- Adds cash to an account's balance once per idempotency key (R-BIL-4), then pays what is due,
-- oldest bill first; when the arrears reach 0 a suspended account resumes: ServiceResumed goes to
-- the outbox in the same step.
-- Each top-up applied is also logged (ListTopUps), in the same step.
-- Positions and reply: TopUpScript (its contract); ST_* words, the snapshot's SNAP_* and the log entry's LOG_* positions: the preamble.
-- KEYS[1] = {acct:M}:bil:acct   KEYS[2] = {acct:M}:bil:topup:<key>   KEYS[3] = {acct:M}:bil:due   KEYS[4] = {acct:M}:outbox
-- KEYS[5] = {acct:M}:bil:topups
-- ARGV[1] = account id  ARGV[2] = amount fen  ARGV[3] = now (unix ms)  ARGV[4] = now ISO
-- ARGV[5], ARGV[6] = ServiceResumed topic, type
-- ARGV[7] = idempotency key retention (s)  ARGV[8] = idempotency key; then the trace context (OutboxScript)
-- Returns {ST_OK | ST_DUP, snapshot} or {ST_UNKNOWN}; the snapshot joins SNAP_COUNT parts with SEP.
-- #include lib-payment.lua
local acct, idem, due, outbox, log = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prev = redis.call('GET', idem)
if prev then return {ST_DUP, prev} end
if redis.call('HEXISTS', acct, A_ACTIVATED_AT) == 0 then return {ST_UNKNOWN} end

local balance = tonumber(redis.call('HGET', acct, A_BALANCE) or '0') + tonumber(ARGV[2])
local arrears
balance, arrears = pay_due(acct, due, outbox, balance, ARGV[1], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
local snap = {}
snap[SNAP_AMOUNT] = ARGV[2]
snap[SNAP_BALANCE] = fmt(balance)
snap[SNAP_ARREARS] = fmt(arrears)
snap[SNAP_SUSPENDED] = redis.call('HGET', acct, A_SUSPENDED) or NO
snap[SNAP_ARREARS_SINCE] = redis.call('HGET', acct, A_ARREARS_SINCE) or ''
local snapshot = table.concat(snap, SEP, 1, SNAP_COUNT)
redis.call('SET', idem, snapshot, 'EX', ARGV[7])
local entry = {}
entry[LOG_IDEMPOTENCY_KEY] = ARGV[8]
entry[LOG_AT] = ARGV[3]
entry[LOG_AMOUNT] = ARGV[2]
entry[LOG_BALANCE_AFTER] = fmt(balance)
entry[LOG_ARREARS_AFTER] = fmt(arrears)
redis.call('ZADD', log, ARGV[3], table.concat(entry, SEP, 1, LOG_COUNT))
return {ST_OK, snapshot}
