-- Removes a claimed due entry only if it still has the claim's score (a redelivery may have
-- rescheduled it since). KEYS[1] = wh:due  ARGV[1] = member  ARGV[2] = score of the claim
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
