-- Claims the delivery of one (event, channel) on an external channel (email, SMS):
-- ST_SENT = delivered before, skip; ST_BUSY = another attempt holds a live claim, retry later;
-- ST_CLAIMED = this attempt may send, then marks it sent (or releases the claim on failure,
-- CompareAndDelete of the claimed value).
-- The claim expires after its lease, so a claimant that crashed is replaced by a later retry.
-- Positions and constants (MARKER_*, ST_*: a generated preamble): ClaimDeliveryScript (NotificationScripts.cs).
-- KEYS: the (event, channel) marker.  ARGV: claim token, lease (ms).
local v = redis.call('GET', KEYS[1])
if v == MARKER_SENT then return ST_SENT end
if v then return ST_BUSY end
redis.call('SET', KEYS[1], MARKER_CLAIMED .. ARGV[1], 'PX', ARGV[2])
return ST_CLAIMED
