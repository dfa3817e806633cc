-- Records a bought package as a prepaid charge for the next bill, once per package id (R-BIL-2).
-- Positions and reply: AddPrepaidScript (its contract).
-- KEYS[1] = {acct:M}:bil:item:pkg:<id>   KEYS[2] = {acct:M}:bil:unbilled (zset)
-- ARGV[1] = unbilled member "pkg:<id>"   ARGV[2] = score (purchase time, unix ms)
-- ARGV[3..] = field, value pairs of the charge (the contract names them)
-- Returns 1 when recorded now, 0 when it was known.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
