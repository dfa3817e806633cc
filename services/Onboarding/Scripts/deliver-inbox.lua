-- Puts one notice in a main account's in-site inbox exactly once per (event, 'inbox'): the
-- delivery marker and the message are written together. The message id is derived from the
-- event id, so even after the marker's retention a redelivery cannot add a second copy.
-- KEYS[1] = {acct:M}:onb:notified:<event id>:inbox  KEYS[2] = {acct:M}:onb:inbox
-- KEYS[3] = {acct:M}:onb:inbox:unread  KEYS[4] = {acct:M}:onb:inbox:msgs
-- ARGV[1] = message id  ARGV[2] = created_at (ms)  ARGV[3] = message JSON  ARGV[4] = marker retention (s)
-- Returns 1 when delivered now, 0 when it had been delivered before.
if redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1 then
  redis.call('SET', KEYS[1], 'sent', 'EX', ARGV[4])
  return 0
end
if not redis.call('SET', KEYS[1], 'sent', 'NX', 'EX', ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
return 1
