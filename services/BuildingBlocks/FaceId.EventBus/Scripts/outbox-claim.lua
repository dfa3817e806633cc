-- A relay's first step on one outbox (OutboxRelay.DrainAsync, ClaimOutboxScript): takes the outbox's lock and
-- reads the first page in one round trip. An empty outbox is left alone (no lock, nothing written).
-- KEYS[1] = {tag}:outbox   KEYS[2] = {tag}:outbox:lock (same slot)
-- ARGV[1] = the relay's token   ARGV[2] = the lock's lifetime (ms)   ARGV[3] = page size
-- Returns 0 when another relay holds the lock; otherwise the page (XRANGE's reply), the lock held while it is not empty.
if redis.call('XLEN', KEYS[1]) == 0 then return {} end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
return redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', ARGV[3])
