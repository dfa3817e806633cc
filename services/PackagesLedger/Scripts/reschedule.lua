-- Moves a claimed schedule member to its next time, or removes it, unless someone moved it meanwhile:
-- a package created since the claim may have pulled the member earlier (ZADD LT), and that earlier
-- time must stay (PackageSchedule).
-- Positions: RescheduleScript (its Bind and Parse).
-- KEYS[1] = schedule zset   ARGV[1] = member   ARGV[2] = the score the claim gave it (ms)
-- ARGV[3] = next time (ms), or '' to remove the member
-- Returns 1 when moved or removed, 0 when left as someone else set it.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1
