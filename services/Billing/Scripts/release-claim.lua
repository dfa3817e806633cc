-- Releases the account's settlement claim only if this replica still holds it (compare and delete).
-- KEYS[1] = {acct:M}:bil:claim   ARGV[1] = the holder's token
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
