-- Deletes a key only if it still holds the caller's token: the release of a lock, lease or claim
-- that another holder may have taken over since (CompareAndDelete).
-- KEYS[1] = the key   ARGV[1] = the token
-- Returns 1 when deleted, 0 when the key is gone or holds another token.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
