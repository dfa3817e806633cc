-- Records an account's activation in Billing (R-ONB-2, docs/rules.md §5.4), once: the activation date,
-- price book and settlement cycle are fixed for good, so later deliveries change nothing.
-- KEYS[1] = {acct:M}:bil:acct
-- ARGV[1] = activated_at (unix ms)   ARGV[2] = price book   ARGV[3] = cycle (daily|monthly)
-- Returns 1 the first time, 0 afterwards.
if redis.call('HEXISTS', KEYS[1], 'activated_at') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'activated_at', ARGV[1], 'price_book', ARGV[2], 'cycle', ARGV[3])
return 1
