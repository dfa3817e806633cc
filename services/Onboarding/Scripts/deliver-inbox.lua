-- Puts one notice in a main account's inbox exactly once per (event, 'inbox'): the
-- delivery marker and the message are written together. The message id is derived from the
-- event id, so even after the marker's retention a redelivery cannot add a second copy.
-- Positions and constants (MARKER_SENT: a generated preamble): DeliverInboxScript (NotificationScripts.cs).
-- KEYS: the (event, inbox) marker, the inbox, the unread set, the messages hash.
-- ARGV: message id, created_at (ms), message JSON, marker retention (s).
-- Returns 1 when delivered now, 0 when it had been delivered before.
if redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1 then
  redis.call('SET', KEYS[1], MARKER_SENT, 'EX', ARGV[4])
  return 0
end
if not redis.call('SET', KEYS[1], MARKER_SENT, 'NX', 'EX', ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
return 1
