-- Records an account's activation in Billing (R-ONB-2, docs/rules.md §5.4), once: the activation date,
-- price book and settlement cycle are fixed for good, so later deliveries change nothing.
-- Positions and reply: ActivateScript (its contract); A_* constants: the generated preamble (BillingFormats).
-- KEYS[1] = {acct:M}:bil:acct
-- ARGV[1] = activated_at (unix ms)   ARGV[2] = price book   ARGV[3] = cycle
-- Returns 1 the first time, 0 afterwards.
if redis.call('HEXISTS', KEYS[1], A_ACTIVATED_AT) == 1 then return 0 end
redis.call('HSET', KEYS[1], A_ACTIVATED_AT, ARGV[1], A_PRICE_BOOK, ARGV[2], A_CYCLE, ARGV[3])
return 1
