-- Issues one bill (R-BIL-2) and pays it from the balance (R-BIL-4), in one atomic step:
-- the bill, the "billed so far" state of each month it brought up to date, the prepaid charges and
-- refund credits it consumed, the account's settled-through mark, the payment (oldest unpaid bill
-- first), arrears, and the BillIssued event (plus ServiceResumed when a credit clears the
-- arrears of a suspended account) in the account's outbox.
-- The balance is charged the bill's total less its refund lines: refunds were credited to the
-- balance when they completed (credit-refund.lua) and are listed on the bill, not paid twice.
-- Refused when the bill exists (settling twice yields one bill) or when another settlement moved
-- the account's sequence since the draft was computed (the caller recomputes).
--
-- KEYS[1] = {acct:M}:bil:acct   KEYS[2] = {acct:M}:bil:bill:<period>   KEYS[3] = {acct:M}:bil:bills
-- KEYS[4] = {acct:M}:bil:unbilled   KEYS[5] = {acct:M}:bil:due   KEYS[6] = {acct:M}:outbox
-- ARGV[1] = hash tag  ARGV[2] = account id  ARGV[3] = expected seq  ARGV[4] = period key
-- ARGV[5] = period start (unix ms)  ARGV[6] = bill JSON  ARGV[7] = total fen  ARGV[8] = charge to the balance (fen)
-- ARGV[9] = now (unix ms)  ARGV[10] = now ISO
-- ARGV[11], ARGV[12] = BillIssued topic, type  ARGV[13] = bill id  ARGV[14], ARGV[15] = period start, end ISO
-- ARGV[16], ARGV[17] = ServiceResumed topic, type
-- ARGV[18] = n consumed unbilled members, then the members;
-- then m, then m month groups: month (yyyymm), version of its counters seen by the draft, k,
-- then k triples label, calls, fen; then the trace context (OutboxScript)
-- Returns {'ok', outstanding of this bill, balance, arrears, arrears_since ms or ''} | {'exists'} | {'conflict'}.
-- #include lib-payment.lua
local acct, billKey, bills, unbilled, due, outbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local tag, account, period = ARGV[1], ARGV[2], ARGV[4]
local now, nowIso = ARGV[9], ARGV[10]

if redis.call('EXISTS', billKey) == 1 then return {'exists'} end
if (redis.call('HGET', acct, 'seq') or '0') ~= ARGV[3] then return {'conflict'} end

local i = 18
local nItems = tonumber(ARGV[i])
for j = 1, nItems do
  if not redis.call('ZSCORE', unbilled, ARGV[i + j]) then return {'conflict'} end
end
for j = 1, nItems do redis.call('ZREM', unbilled, ARGV[i + j]) end
i = i + nItems + 1

local nMonths = tonumber(ARGV[i]); i = i + 1
for _ = 1, nMonths do
  local month, ver, k = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  i = i + 3
  local key = tag .. ':bil:billed:' .. month
  redis.call('HSET', key, 'ver', ver)
  for _ = 1, k do
    redis.call('HSET', key, ARGV[i] .. '|calls', ARGV[i + 1], ARGV[i] .. '|fen', ARGV[i + 2])
    i = i + 3
  end
end

redis.call('SET', billKey, ARGV[6])
redis.call('ZADD', bills, ARGV[5], period)
redis.call('HSET', acct, 'settled_through', period, 'last_bill_at', now)
redis.call('HINCRBY', acct, 'seq', 1)

-- A charge becomes due; a credit goes to the balance; then the balance pays what is due.
local charge = tonumber(ARGV[8])
local balance = tonumber(redis.call('HGET', acct, 'balance_fen') or '0')
if charge > 0 then redis.call('HSET', due, period, fmt(charge)) elseif charge < 0 then balance = balance - charge end
local arrears
balance, arrears = pay_due(acct, due, outbox, balance, account, now, nowIso, ARGV[16], ARGV[17])

local outstanding = tonumber(redis.call('HGET', due, period) or '0')
local issued = { accountId = account, billId = ARGV[13], periodStart = ARGV[14], periodEnd = ARGV[15], totalFen = ARGV[7] }
if outstanding > 0 then issued.inArrears = true end
outbox_append(outbox, ARGV[11], ARGV[12], cjson.encode(issued), now, 'bill-issued:' .. account .. ':' .. period)
return {'ok', fmt(outstanding), fmt(balance), fmt(arrears), redis.call('HGET', acct, 'arrears_since') or ''}
