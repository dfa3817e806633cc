-- Claims the delivery of one (event, channel) on an external channel (email, SMS):
-- 'sent' = delivered before, skip; 'busy' = another attempt holds a live claim, retry later;
-- 'claimed' = this attempt may send, then marks it sent (or releases the claim on failure).
-- The claim expires after its lease, so a claimant that crashed is replaced by a later retry.
-- KEYS[1] = {acct:M}:onb:notified:<event id>:<channel>
-- ARGV[1] = claim token  ARGV[2] = lease (ms)
local v = redis.call('GET', KEYS[1])
if v == 'sent' then return 'sent' end
if v then return 'busy' end
redis.call('SET', KEYS[1], 'claimed:' .. ARGV[1], 'PX', ARGV[2])
return 'claimed'
