-- Shared by issue-bill.lua, top-up.lua and credit-refund.lua (inlined by RedisScript's include).
-- pay_due: the balance pays what is due, oldest bill first (period keys sort by date); stores the
-- new balance and arrears; when nothing is owed any more the arrears clear and a suspended account
-- resumes, with ServiceResumed in the outbox in the same step (R-BIL-4).
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
  redis.call('HSET', acct, 'balance_fen', fmt(balance), 'arrears_fen', fmt(arrears))
  if arrears == 0 then
    redis.call('HDEL', acct, 'arrears_since')
    if redis.call('HGET', acct, 'suspended') == '1' then
      redis.call('HSET', acct, 'suspended', '0', 'resumed_at', now)
      outbox_append(outbox, rtopic, rtype, cjson.encode({ accountId = account, resumedAt = nowIso }), now,
        'resumed:' .. account .. ':' .. now)
    end
  elseif not redis.call('HGET', acct, 'arrears_since') then
    redis.call('HSET', acct, 'arrears_since', now)
  end
  return balance, arrears
end
