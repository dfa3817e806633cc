-- Claims due entries of a schedule for one worker (LeasedSchedule): each due member's score moves
-- to the end of the lease, so other replicas skip it and it comes back by itself if the worker dies
-- before removing it (ZREM after the work is done).
-- KEYS[1] = schedule zset   ARGV[1] = due by (ms)   ARGV[2] = lease end (ms)   ARGV[3] = max members
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], m) end
return due
