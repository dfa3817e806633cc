-- Suspends or resumes an opened service (R-BIL-4). Events may arrive out of order or twice:
-- a change older than the last applied one is ignored.
-- Positions: SetServiceStateScript (its Bind and Parse).
-- KEYS[1] = {acct:M}:svc   ARGV[1] = the new state (ServiceStates)   ARGV[2] = when the change happened (ms)
-- Returns the state now in force, or '' when the service was never opened.
if redis.call('HEXISTS', KEYS[1], SVC_F_ACTIVATED_AT) == 0 then return '' end
local last = tonumber(redis.call('HGET', KEYS[1], SVC_F_STATE_AT) or '0')
if tonumber(ARGV[2]) >= last then
  redis.call('HSET', KEYS[1], SVC_F_STATE, ARGV[1], SVC_F_STATE_AT, ARGV[2])
end
return redis.call('HGET', KEYS[1], SVC_F_STATE)
