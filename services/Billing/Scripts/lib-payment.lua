-- Shared by issue-bill.lua, top-up.lua and credit-refund.lua (inlined by RedisScript's include).
-- pay_due: the balance pays what is due, oldest bill first (period keys sort by date); stores the
-- new balance and arrears; when nothing is owed any more the arrears clear and a suspended account
-- resumes, with ServiceResumed in the outbox in the same step (R-BIL-4).
-- Needs the preamble of BillingFormats (A_*, YES/NO, EID_RESUMED) and ServiceResumed's JSON names (SR_*).
-- Amounts are integers below 2^53 fen; string.format('%d') writes them exactly.
-- #include lib-outbox.lua
local function fmt(x) return string.format('%d', x) end

local function pay_due(acct, due, outbox, balance, account, now, nowIso, rtopic, rtype)
  local periods = redis.call('HKEYS', due)
  table.sort(periods)
  local arrears = 0
  for _, p in ipairs(periods) do
    local owed = tonumber(redis.call('HGET', due, p))
    local pay = math.min(balance, owed)
    balance, owed = balance - pay, owed - pay
    if owed == 0 then redis.call('HDEL', due, p) else redis.call('HSET', due, p, fmt(owed)); arrears = arrears + owed end
  end
  redis.call('HSET', acct, A_BALANCE, fmt(balance), A_ARREARS, fmt(arrears))
  if arrears == 0 then
    redis.call('HDEL', acct, A_ARREARS_SINCE)
    if redis.call('HGET', acct, A_SUSPENDED) == YES then
      redis.call('HSET', acct, A_SUSPENDED, NO, A_RESUMED_AT, now)
      outbox_append(outbox, rtopic, rtype, cjson.encode({ [SR_ACCOUNT_ID] = account, [SR_RESUMED_AT] = nowIso }), now,
        EID_RESUMED .. ':' .. account .. ':' .. now)
    end
  elseif not redis.call('HGET', acct, A_ARREARS_SINCE) then
    redis.call('HSET', acct, A_ARREARS_SINCE, now)
  end
  return balance, arrears
end
