-- Releases a delivery claim after a failed send, only if this attempt still holds it.
-- KEYS[1] = {acct:M}:onb:notified:<event id>:<channel>  ARGV[1] = claim token
if redis.call('GET', KEYS[1]) == 'claimed:' .. ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
