-- One consistent page of a main account's inbox, newest first.
-- Positions, the constant ARG_TRUE (a generated preamble) and the reply's shape: ListInboxScript (NotificationScripts.cs).
-- KEYS: the inbox, the unread set, the messages hash.  ARGV: unread only (ARG_TRUE or not), offset, count.
-- Returns {unread count, total of the listed set, then per message: id, JSON, unread (1|0)}.
local set = KEYS[1]
if ARGV[1] == ARG_TRUE then set = KEYS[2] end
local offset, count = tonumber(ARGV[2]), tonumber(ARGV[3])
local ids = redis.call('ZREVRANGE', set, offset, offset + count - 1)
local out = { redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', set) }
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[3], id) or ''
  if redis.call('ZSCORE', KEYS[2], id) then out[#out + 1] = 1 else out[#out + 1] = 0 end
end
return out
