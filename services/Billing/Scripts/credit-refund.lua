-- A completed refund (R-REF-3), once per refund id: the amount is credited to the balance now (it
-- pays what is due, oldest bill first, and may resume a suspended account), and the refund waits
-- in the unbilled set to be listed on the next bill as a REFUND_CREDIT line (not paid twice:
-- see issue-bill.lua). Positions and reply: CreditRefundScript (its contract).
-- KEYS[1] = {acct:M}:bil:acct  KEYS[2] = {acct:M}:bil:item:ref:<id>  KEYS[3] = {acct:M}:bil:unbilled
-- KEYS[4] = {acct:M}:bil:due  KEYS[5] = {acct:M}:outbox
-- ARGV[1] = account id  ARGV[2] = unbilled member "ref:<id>"  ARGV[3] = package id  ARGV[4] = amount fen
-- ARGV[5] = completed at (ms)  ARGV[6] = now (ms)  ARGV[7] = now ISO  ARGV[8], ARGV[9] = ServiceResumed topic, type
-- then the trace context (OutboxScript)
-- Returns 1 when credited now, 0 when it was credited before.
-- #include lib-payment.lua
local acct, item, unbilled, due, outbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if redis.call('EXISTS', item) == 1 then return 0 end
redis.call('HSET', item, I_PACKAGE_ID, ARGV[3], I_AMOUNT, ARGV[4], I_COMPLETED_AT, ARGV[5])
redis.call('ZADD', unbilled, ARGV[5], ARGV[2])
local balance = tonumber(redis.call('HGET', acct, A_BALANCE) or '0') + tonumber(ARGV[4])
pay_due(acct, due, outbox, balance, ARGV[1], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
return 1
