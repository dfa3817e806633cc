-- Issues one bill (R-BIL-2) and pays it from the balance (R-BIL-4), in one atomic step:
-- the bill, the "billed so far" state of each month it brought up to date, the prepaid charges and
-- refund credits it consumed, the account's settled-through mark, the payment (oldest unpaid bill
-- first), arrears, and the BillIssued event (plus ServiceResumed when a credit clears the
-- arrears of a suspended account) in the account's outbox.
-- The balance is charged the bill's total less its refund lines: refunds were credited to the
-- balance when they completed (credit-refund.lua) and are listed on the bill, not paid twice.
-- Refused when the bill exists (settling twice yields one bill) or when another settlement moved
-- the account's sequence since the draft was computed (the caller recomputes).
-- Positions and reply: IssueBillScript (its contract); ST_* words, A_*/BILLED_* fields, BI_* JSON names: the preamble.
--
-- KEYS[1] = {acct:M}:bil:acct   KEYS[2] = {acct:M}:bil:bill:<period>   KEYS[3] = {acct:M}:bil:bills
-- KEYS[4] = {acct:M}:bil:unbilled   KEYS[5] = {acct:M}:bil:due   KEYS[6] = {acct:M}:outbox
-- KEYS[6 + g] = {acct:M}:bil:billed:<month> of the g-th month group below
-- ARGV[1] = account id  ARGV[2] = expected seq  ARGV[3] = period key  ARGV[4] = period start (unix ms)
-- ARGV[5] = bill JSON  ARGV[6] = total fen  ARGV[7] = charge to the balance (fen)  ARGV[8] = now (unix ms)  ARGV[9] = now ISO
-- ARGV[10], ARGV[11] = BillIssued topic, type  ARGV[12] = bill id  ARGV[13], ARGV[14] = period start, end ISO
-- ARGV[15], ARGV[16] = ServiceResumed topic, type
-- ARGV[17] = n consumed unbilled members, then the members;
-- then m, then m month groups: version of the month's counters seen by the draft, k,
-- then k triples label, calls, fen; then the trace context (OutboxScript)
-- Returns {ST_OK, outstanding of this bill, balance, arrears, arrears_since ms or ''} | {ST_EXISTS} | {ST_CONFLICT}.
-- #include lib-payment.lua
local acct, billKey, bills, unbilled, due, outbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local account, period = ARGV[1], ARGV[3]
local now, nowIso = ARGV[8], ARGV[9]

if redis.call('EXISTS', billKey) == 1 then return {ST_EXISTS} end
if (redis.call('HGET', acct, A_SEQ) or '0') ~= ARGV[2] then return {ST_CONFLICT} end

local i = 17
local nItems = tonumber(ARGV[i])
for j = 1, nItems do
  if not redis.call('ZSCORE', unbilled, ARGV[i + j]) then return {ST_CONFLICT} end
end
for j = 1, nItems do redis.call('ZREM', unbilled, ARGV[i + j]) end
i = i + nItems + 1

local nMonths = tonumber(ARGV[i]); i = i + 1
for g = 1, nMonths do
  local ver, k = ARGV[i], tonumber(ARGV[i + 1])
  i = i + 2
  local key = KEYS[6 + g]
  redis.call('HSET', key, BILLED_VERSION, ver)
  for _ = 1, k do
    redis.call('HSET', key, ARGV[i] .. SEP .. BILLED_CALLS, ARGV[i + 1], ARGV[i] .. SEP .. BILLED_FEN, ARGV[i + 2])
    i = i + 3
  end
end

redis.call('SET', billKey, ARGV[5])
redis.call('ZADD', bills, ARGV[4], period)
redis.call('HSET', acct, A_SETTLED_THROUGH, period, A_LAST_BILL_AT, now)
redis.call('HINCRBY', acct, A_SEQ, 1)

-- A charge becomes due; a credit goes to the balance; then the balance pays what is due.
local charge = tonumber(ARGV[7])
local balance = tonumber(redis.call('HGET', acct, A_BALANCE) or '0')
if charge > 0 then redis.call('HSET', due, period, fmt(charge)) elseif charge < 0 then balance = balance - charge end
local arrears
balance, arrears = pay_due(acct, due, outbox, balance, account, now, nowIso, ARGV[15], ARGV[16])

local outstanding = tonumber(redis.call('HGET', due, period) or '0')
local issued = { [BI_ACCOUNT_ID] = account, [BI_BILL_ID] = ARGV[12], [BI_PERIOD_START] = ARGV[13], [BI_PERIOD_END] = ARGV[14],
  [BI_TOTAL_FEN] = ARGV[6] }
if outstanding > 0 then issued[BI_IN_ARREARS] = true end
outbox_append(outbox, ARGV[10], ARGV[11], cjson.encode(issued), now, EID_BILL_ISSUED .. ':' .. account .. ':' .. period)
return {ST_OK, fmt(outstanding), fmt(balance), fmt(arrears), redis.call('HGET', acct, A_ARREARS_SINCE) or ''}
