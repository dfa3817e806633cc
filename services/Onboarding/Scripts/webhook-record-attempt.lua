-- Records one delivery attempt and its consequences in one step: the attempt log, the delivery's
-- state (delivered, pending with its next time, or failed once the schedule is used up), the
-- endpoint's failures in a row, and — when they reach the threshold — the endpoint disabled with
-- its notice in the account's inbox (the same writes as deliver-inbox.lua).
-- KEYS[1] = {acct:M}:wh:dl:<id>  KEYS[2] = {acct:M}:wh:dl:<id>:attempts  KEYS[3] = {acct:M}:wh:ep:<endpoint>
-- KEYS[4] = {acct:M}:onb:inbox  KEYS[5] = {acct:M}:onb:inbox:unread  KEYS[6] = {acct:M}:onb:inbox:msgs
-- ARGV[1] = attempts seen by the claimant  ARGV[2] = attempt JSON  ARGV[3] = 1 success / 0 failure
-- ARGV[4] = next attempt (ms) or '' when the schedule is used up  ARGV[5] = failure threshold
-- ARGV[6] = now (ms)  ARGV[7] = inbox message id  ARGV[8] = inbox message JSON  ARGV[9] = retention (s)
-- Returns {outcome, endpoint disabled now 0|1}; outcome delivered|retry|failed|stale.
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' or redis.call('HGET', KEYS[1], 'attempts') ~= ARGV[1] then
  return {'stale', 0}
end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[9])
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
local endpoint = redis.call('EXISTS', KEYS[3]) == 1
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'state', 'delivered', 'next_at', '')
  if endpoint then redis.call('HSET', KEYS[3], 'failures', 0) end
  return {'delivered', 0}
end
local outcome = 'retry'
if ARGV[4] == '' then
  redis.call('HSET', KEYS[1], 'state', 'failed', 'next_at', '')
  outcome = 'failed'
else
  redis.call('HSET', KEYS[1], 'next_at', ARGV[4])
end
if not endpoint then return {outcome, 0} end
local failures = redis.call('HINCRBY', KEYS[3], 'failures', 1)
if failures >= tonumber(ARGV[5]) and redis.call('HGET', KEYS[3], 'enabled') == '1' then
  redis.call('HSET', KEYS[3], 'enabled', '0', 'disabled_reason', 'failing', 'updated_at', ARGV[6])
  if redis.call('HEXISTS', KEYS[6], ARGV[7]) == 0 then
    redis.call('ZADD', KEYS[4], ARGV[6], ARGV[7])
    redis.call('ZADD', KEYS[5], ARGV[6], ARGV[7])
    redis.call('HSET', KEYS[6], ARGV[7], ARGV[8])
  end
  return {outcome, 1}
end
return {outcome, 0}
