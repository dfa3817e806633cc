-- Claims due webhook deliveries: each member's score moves to the end of the lease, so no other
-- worker takes it until then; a worker killed mid-attempt leaves it to be taken again after.
-- KEYS[1] = wh:due  ARGV[1] = now (ms)  ARGV[2] = lease (ms)  ARGV[3] = batch size
-- Returns {member, lease end, …}.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local out, until_ = {}, tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, m in ipairs(due) do
  redis.call('ZADD', KEYS[1], until_, m)
  out[#out + 1] = m
  out[#out + 1] = until_
end
return out
