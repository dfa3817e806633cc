-- Removes an account from the global arrears index only if its entry still has the score the
-- scheduler acted on: a settlement that re-indexed the account meanwhile (new arrears) wins.
-- Positions and reply: UnindexArrearsScript (its contract).
-- KEYS[1] = bil:arrears   ARGV[1] = account id   ARGV[2] = the score seen (unix ms)
-- Returns 1 when removed, 0 when the entry is gone or has another score.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
