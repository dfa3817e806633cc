-- Removes an account from the global arrears index only if its entry still has the score the
-- scheduler acted on: a settlement that re-indexed the account meanwhile (new arrears) wins.
-- KEYS[1] = bil:arrears   ARGV[1] = account id   ARGV[2] = the score seen (unix ms)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
