-- A relay's step after publishing a page (OutboxRelay.DrainAsync, NextOutboxPageScript): deletes the published
-- entries, reads the next page and, when none is left, releases the lock if it still holds the relay's token
-- (as compare-and-delete.lua) — one round trip instead of XDEL, XRANGE and the release.
-- KEYS[1] = {tag}:outbox   KEYS[2] = {tag}:outbox:lock (same slot)
-- ARGV[1] = the relay's token   ARGV[2] = page size   ARGV[3..] = the ids of the entries published
-- Returns the next page (XRANGE's reply); empty: the outbox is drained and the lock released.
redis.call('XDEL', KEYS[1], unpack(ARGV, 3))
local page = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', ARGV[2])
if #page == 0 and redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return page
