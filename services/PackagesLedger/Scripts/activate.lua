-- Opens an account's service in the ledger's view (R-ONB-2), once: later calls change nothing.
-- Positions: ActivateScript (its Bind and Parse). SVC_OPENED: its preamble (ServiceStates).
-- KEYS[1] = {acct:M}:svc
-- ARGV[1] = activated_at (unix ms), ARGV[2] = price book, ARGV[3] = settlement cycle
-- Returns {activated_at, price_book, first (1|0)}.
if redis.call('HEXISTS', KEYS[1], SVC_F_ACTIVATED_AT) == 1 then
  local cur = redis.call('HMGET', KEYS[1], SVC_F_ACTIVATED_AT, SVC_F_PRICE_BOOK)
  return {cur[1], cur[2], 0}
end
redis.call('HSET', KEYS[1], SVC_F_STATE, SVC_OPENED, SVC_F_ACTIVATED_AT, ARGV[1], SVC_F_PRICE_BOOK, ARGV[2], SVC_F_CYCLE, ARGV[3])
return {ARGV[1], ARGV[2], 1}
