-- Claims due entries of a schedule for one worker: each due member's score moves to
-- now + lease, so other replicas skip it and it comes back by itself if the worker dies before
-- removing it (ZREM after the work is done).
-- KEYS[1] = schedule zset   ARGV[1] = now (ms)   ARGV[2] = lease (ms)   ARGV[3] = max members
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local until_ms = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', until_ms, m) end
return due
